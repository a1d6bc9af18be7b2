"""Serving a visitor's page from the cache, and keeping the pages that are safe to keep.

A request is a visitor's when it is a GET without an Authorization header
whose session cookie (if any) carries no login and no flashed message: that is
read from the cookie alone, so a hit runs no query. Only the endpoints of
``tags.PAGE_LISTS`` are kept, under a key of the site's address, the host and
scheme asked for, the path and the sorted query string.

A page is kept only if nothing in it is the visitor's own: a 200 HTML answer,
no cookie set, the session untouched (no flash taken or left, no CSRF secret
made), no CSRF token generated for it, nobody logged in by the end. And only
if no write committed while it rendered (the epoch did not move): its tag
versions are read after rendering, and a page built from data read before a
commit must not be stamped with the versions after it.

Members' pages are never kept and never served from here; every HTML answer
to a member, or with anything personal in it (a form's CSRF token), says
``Cache-Control: private, no-cache`` so no proxy keeps it either, and a
visitor's page says ``no-cache`` (a proxy could not learn of our invalidations).
``X-Cache: hit`` or ``miss`` tells operators and tests which.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from flask import Flask, Response, current_app, g, request, session

from normhub.accounts.login_cookie import LOGIN_KEY
from normhub.pagecache import tags
from normhub.pagecache.stores import EPOCH, Entry

logger = logging.getLogger("normhub.pagecache")

STORE = "normhub.pagecache.store"
# A session holding any of these is a member's, or carries a message for this visitor.
PERSONAL_SESSION_KEYS = (LOGIN_KEY, "_user_id", "_flashes")
VISITOR_CACHE_CONTROL = "no-cache"
MEMBER_CACHE_CONTROL = "private, no-cache"


@dataclass
class Miss:
    key: str
    epoch: int
    reading: object = field(repr=False)


def _is_visitor_request() -> bool:
    headers = request.headers
    return (
        request.method == "GET"
        and "Authorization" not in headers
        # No cookie, no session: the first visit, crawlers, and feed readers' links.
        and ("Cookie" not in headers or not any(name in session for name in PERSONAL_SESSION_KEYS))
    )


def _query_key(query: bytes) -> bytes:
    # Sorted by name only: a stable sort keeps the order of a repeated name's values.
    return b"&".join(sorted(query.split(b"&"), key=lambda pair: pair.partition(b"=")[0]))


def page_key(app: Flask) -> str:
    """What makes two visitors' requests get the same bytes."""
    parts = (app.config["BASE_URL"], request.scheme, request.host, request.path)
    address = "\n".join(parts).encode()
    if request.query_string:
        address += b"\n" + _query_key(request.query_string)
    return hashlib.sha256(address).hexdigest()


def serve_from_cache():
    """Before the view (first of all hooks): a visitor's kept page, if still current."""
    if request.endpoint not in tags.PAGE_LISTS or not _is_visitor_request():
        return None
    app = current_app._get_current_object()
    store = app.extensions[STORE]
    key = page_key(app)
    try:
        entry = store.get(key)
        names = [EPOCH, *(entry.versions if entry is not None else ())]
        epoch, *current = store.versions(names)
    except Exception:  # a store that is down must not take the pages with it
        logger.exception("Page cache unavailable; serving without it")
        return None
    if entry is not None and current == list(entry.versions.values()):
        return Response(
            entry.body,
            content_type=entry.content_type,
            headers={"X-Cache": "hit", "Cache-Control": VISITOR_CACHE_CONTROL, "Vary": "Cookie"},
        )
    g.pagecache_miss = Miss(key, epoch, tags.start_reading())
    return None


def _personal(response) -> bool:
    """Whether the answer carries anything of this visitor's own."""
    csrf_field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    user = g.get("_login_user")
    return (
        "Set-Cookie" in response.headers
        or session.modified
        or any(name in session for name in PERSONAL_SESSION_KEYS)
        or g.get(csrf_field) is not None
        or (user is not None and user.is_authenticated)
    )


def _keepable(response) -> bool:
    return (
        response.status_code == 200
        and response.mimetype == "text/html"
        and not response.is_streamed
        and not _personal(response)
    )


def keep_page(response):
    """After the view: keep a visitor's page that is safe to keep; say who may store it."""
    miss = g.pop("pagecache_miss", None)
    if miss is None:
        _set_cache_control(response)
        return response
    loaded = tags.stop_reading(miss.reading)
    response.headers["X-Cache"] = "miss"
    if _keepable(response):
        _store(response, miss, tags.page_tags(request.endpoint, loaded))
    _set_cache_control(response)
    return response


def _store(response, miss: Miss, page_tags: set[str]) -> None:
    store = current_app.extensions[STORE]
    names = sorted(page_tags)
    try:
        epoch, *versions = store.versions([EPOCH, *names])
        if epoch != miss.epoch:
            return  # a write committed while this page rendered: it may be older than that
        built_from = dict(zip(names, versions, strict=True))
        entry = Entry(response.get_data(), response.content_type, built_from)
        store.put(miss.key, entry, current_app.config["PAGE_CACHE_SECONDS"])
    except Exception:
        logger.exception("Page cache unavailable; the page was not kept")


def _set_cache_control(response) -> None:
    if response.mimetype != "text/html" or "Cache-Control" in response.headers:
        return
    personal = _personal(response)
    response.headers["Cache-Control"] = MEMBER_CACHE_CONTROL if personal else VISITOR_CACHE_CONTROL
    response.vary.add("Cookie")


def stop_reading_on_error(_exc=None) -> None:
    """A request that failed before ``keep_page`` stops collecting tags all the same."""
    miss = g.pop("pagecache_miss", None)
    if miss is not None:
        tags.stop_reading(miss.reading)
