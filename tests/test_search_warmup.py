"""A new app server worker reads what searches need before it takes requests."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from normhub import warmup
from normhub.config import PROJECT_ROOT
from normhub.search.backend import SearchQuery, backend_for
from normhub.search.results import FACET_FIELDS
from normhub.search.services import visible_communities
from normhub.search.whoosh import matching
from normhub.search.whoosh.searchers import searcher_for
from tests.test_search_backend import _document

GUNICORN_SETTINGS = Path(PROJECT_ROOT) / "gunicorn.conf.py"


def _write_two_norms(app, factory):
    app.config["SEARCH_INDEXING"] = False
    community = factory.community()
    backend_for(app).write(
        [
            _document(community, 1001, "Kettle descaling rota", tag="kitchen"),
            _document(community, 1002, "Kettle cable safety", status="draft"),
        ]
    )
    return community


def _segment_sets(app):
    searcher = searcher_for(backend_for(app).directory)
    return [matching.segment_sets(leaf.reader()) for leaf, _offset in searcher.leaf_searchers()]


@pytest.mark.whoosh
def test_warming_whoosh_reads_every_segments_community_and_facet_sets(app, factory):
    _write_two_norms(app, factory)
    matching._segments.clear()  # as in a worker that has just started

    assert backend_for(app).warm() == len(_segment_sets(app)) >= 1
    for sets in _segment_sets(app):
        assert set(sets.values) == {"community_id", *FACET_FIELDS}
        assert sets.values["status"].keys() == {"open", "draft"}


@pytest.mark.whoosh
def test_a_warmed_search_answers_as_a_cold_one_does(app, factory, session):
    _write_two_norms(app, factory)
    communities = visible_communities(session, None)
    matching._segments.clear()
    cold = backend_for(app).search(SearchQuery("kettle", communities))
    matching._segments.clear()
    backend_for(app).warm()
    warm = backend_for(app).search(SearchQuery("kettle", communities))
    assert (warm.total, [h.title for h in warm.hits]) == (cold.total, [h.title for h in cold.hits])
    assert warm.total == 2


def test_the_gunicorn_hook_runs_the_apps_warm_up_before_serving(app, factory, caplog):
    _write_two_norms(app, factory)
    matching._segments.clear()
    settings = runpy.run_path(str(GUNICORN_SETTINGS))
    with caplog.at_level("INFO", logger="normhub.warmup"):
        settings["post_worker_init"](SimpleNamespace(wsgi=app))
    assert "Warmed search in" in caplog.text
    if app.config["SEARCH_BACKEND"] == "whoosh":
        assert all("community_id" in sets.values for sets in _segment_sets(app))


def test_the_gunicorn_hook_leaves_an_app_without_steps_alone():
    settings = runpy.run_path(str(GUNICORN_SETTINGS))
    settings["post_worker_init"](SimpleNamespace(wsgi=SimpleNamespace(extensions={})))
    settings["post_worker_init"](SimpleNamespace(wsgi=object()))
    # Only a worker gunicorn runs freezes what it holds out of garbage collection.
    assert gc.get_freeze_count() == 0


def test_a_failing_step_is_logged_and_the_rest_still_run(app, caplog):
    ran = []

    def broken():
        raise RuntimeError("index gone")

    warmup.add_step(app, "broken", broken)
    warmup.add_step(app, "after it", lambda: ran.append(True))
    with caplog.at_level("INFO", logger="normhub.warmup"):
        took = warmup.run(app)
    assert ran == [True]
    assert "broken" not in took and "after it" in took
    assert "Warming broken failed" in caplog.text
