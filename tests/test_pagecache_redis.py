"""Pages kept in Redis are shared by every server, and so are the bumps that drop them."""

from __future__ import annotations

import pytest

from normhub import create_app
from normhub.db import dispose_engines
from normhub.pagecache.serving import STORE
from normhub.pagecache.stores import RedisStore
from tests.conftest import new_client
from tests.test_pagecache_stores import _write_in_first_app_is_seen_by_second


@pytest.fixture
def app_overrides(redis_page_cache):
    return {"RATELIMIT_ENABLED": False, **redis_page_cache}


@pytest.fixture
def other_server(app, tmp_path):
    """A second app with an instance folder of its own: only Redis is shared."""
    folder = tmp_path / "other-server"
    folder.mkdir()
    second = create_app({**app.config}, instance_path=str(folder))
    yield second
    dispose_engines(second)


def test_a_write_through_one_server_drops_the_page_another_kept(
    app, session, factory, other_server
):
    assert isinstance(other_server.extensions[STORE], RedisStore)
    _write_in_first_app_is_seen_by_second(session, factory, other_server)


def test_a_page_kept_by_one_server_is_served_by_another(app, session, factory, other_server):
    community = factory.community()
    url = f"/c/{community.slug}"
    first = new_client(app, session).get(url)
    assert first.headers["X-Cache"] == "miss"
    second = new_client(other_server, session).get(url)
    assert second.headers["X-Cache"] == "hit"
    assert second.data == first.data
