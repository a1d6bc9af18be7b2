"""Where kept pages live: bounded memory, and bumps every process (or server) sees."""

from __future__ import annotations

import pytest

from normhub import create_app
from normhub.db import dispose_engines
from normhub.discussion.services import post_comment
from normhub.pagecache.serving import STORE
from normhub.pagecache.stores import Entry, LocalStore
from tests.conftest import new_client


def entry(size: int, **versions) -> Entry:
    return Entry(b"x" * size, "text/html; charset=utf-8", versions)


def test_memory_keeps_the_most_recently_used_pages_within_its_bound(tmp_path):
    store = LocalStore(tmp_path / "versions.sqlite3", max_bytes=3000)
    for key in ("a", "b"):
        store.put(key, entry(1000), ttl=60)
    assert store.get("a") is not None  # "a" is now the most recently used
    store.put("c", entry(1000), ttl=60)
    assert store.get("b") is None
    assert store.get("a") is not None
    assert store.get("c") is not None
    store.put("huge", entry(5000), ttl=60)  # larger than the whole bound: not kept
    assert store.get("huge") is None
    assert store.get("a") is not None


def test_a_page_past_its_time_is_gone(tmp_path):
    store = LocalStore(tmp_path / "versions.sqlite3", max_bytes=10_000)
    store.put("old", entry(10), ttl=-1)
    assert store.get("old") is None


def test_tag_versions_start_at_zero_and_every_bump_moves_the_epoch(tmp_path):
    one = LocalStore(tmp_path / "versions.sqlite3", max_bytes=10_000)
    other = LocalStore(tmp_path / "versions.sqlite3", max_bytes=10_000)  # another worker
    assert one.versions(["norm:1", "epoch"]) == [0, 0]
    one.bump({"norm:1"})
    one.bump({"norm:1", "user:2"})
    assert other.versions(["norm:1", "user:2", "norm:3", "epoch"]) == [2, 1, 0, 2]


def test_an_entry_survives_its_encoding():
    kept = entry(30, **{"norm:1": 4, "user:2": 0})
    assert Entry.decode(kept.encode()) == kept


@pytest.fixture
def second_app(app, tmp_path):
    """Another app on the same database and settings: a second worker or server."""
    settings = {**app.config}
    second = create_app(settings, instance_path=app.instance_path)
    yield second
    dispose_engines(second)


def _write_in_first_app_is_seen_by_second(session, factory, second):
    community = factory.community()
    author = factory.member(community)
    norm = factory.norm(community, author, title="Shared between servers")
    other = factory.norm(community, author, title="Not commented on")
    reader = new_client(second, session)
    urls = [f"/c/{community.slug}/norms/{n.slug}" for n in (norm, other)]
    for url in urls:
        assert reader.get(url).headers["X-Cache"] == "miss"
        assert reader.get(url).headers["X-Cache"] == "hit"
    post_comment(session, norm, author, "Written through the first app.")
    session.commit()
    page = reader.get(urls[0])
    assert page.headers["X-Cache"] == "miss"
    assert b"Written through the first app." in page.data
    assert reader.get(urls[1]).headers["X-Cache"] == "hit"


def test_workers_of_one_machine_see_each_others_writes(app, session, factory, second_app):
    assert isinstance(app.extensions[STORE], LocalStore)
    assert app.extensions[STORE] is not second_app.extensions[STORE]
    _write_in_first_app_is_seen_by_second(session, factory, second_app)
