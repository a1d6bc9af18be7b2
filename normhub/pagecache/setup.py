"""The anonymous page cache's place in the app: its store, its hooks, its write listener."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from normhub.norms import path_cache
from normhub.pagecache import serving, tags
from normhub.pagecache.stores import EPOCH, LocalStore, RedisStore
from normhub.responses import kept_tallies


def make_store(app: Flask) -> LocalStore | RedisStore:
    config = app.config
    if config["PAGE_CACHE_URL"]:
        return RedisStore(config["PAGE_CACHE_URL"], config["PAGE_CACHE_PREFIX"])
    return LocalStore(
        Path(app.instance_path) / "page-cache-versions.sqlite3", config["PAGE_CACHE_BYTES"]
    )


def init_app(app: Flask) -> None:
    store = make_store(app)
    app.extensions[serving.STORE] = store
    # Bumps follow every commit even with the cache off, so turning it on never
    # finds pages that a write made stale.
    tags.follow_writes(app.extensions["normhub.sessionmaker"], store.bump)
    # The newcomers' paths are kept under tags of this store too, so every process
    # that shares it sees the writes that change one.
    paths = path_cache.PathCache(store.versions, store.bump, EPOCH)
    paths.follow(app.extensions["normhub.sessionmaker"])
    app.extensions[path_cache.EXTENSION] = paths
    # So are the norms' response tallies, which change only when someone answers.
    tallies = kept_tallies.TallyCache(store.versions, store.bump, EPOCH)
    tallies.follow(app.extensions["normhub.sessionmaker"])
    app.extensions[kept_tallies.EXTENSION] = tallies
    if not app.config["PAGE_CACHE"]:
        return
    missing = sorted(set(tags.PAGE_LISTS) - set(app.view_functions))
    if missing:
        raise RuntimeError(f"The page cache names views that do not exist: {missing}")
    # First of all hooks: a hit needs none of the others' work (login check, limits).
    app.before_request_funcs.setdefault(None, []).insert(0, serving.serve_from_cache)
    app.after_request(serving.keep_page)
    app.teardown_request(serving.stop_reading_on_error)
