"""PostgreSQL search above its exact-count limit: totals and facets estimated from a sample,
said plainly on the page and in the API, and never counting what the viewer may not see."""

from __future__ import annotations

import pytest

from normhub.search.backend import backend_for
from normhub.search.postgres import counting
from normhub.search.query import build_query
from normhub.search.results import rounded
from tests.conftest import SEARCH_BACKEND

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        SEARCH_BACKEND not in (None, "postgres"), reason="this run searches with Whoosh"
    ),
]


@pytest.fixture
def lanterns(app, factory):
    """12 public norms and 5 members-only ones about lanterns, the table analysed."""
    public = factory.community()
    private = factory.community(visibility="members", join_policy="invite")
    for n in range(12):
        factory.norm(public, title=f"Lantern rule {n}", tags=["lights"])
    for n in range(5):
        factory.norm(private, title=f"Secret lantern rule {n}", tags=["hidden-tag"])
    backend_for(app).optimize()  # ANALYZE: the planner and the sample know the table's size
    app.config["SEARCH_EXACT_COUNT_UP_TO"] = 3
    return public, private


def test_rounded_keeps_two_significant_figures():
    assert [rounded(n) for n in (136_172, 27_383, 1_737, 12, 0.4)] == [
        140_000,
        27_000,
        1_700,
        12,
        1,
    ]


def test_many_matches_are_estimated_and_said_to_be_on_the_page(client, lanterns):
    page = client.get("/search?q=lantern").get_data(as_text=True)
    # The sample is the whole of so small a table: the estimate is the visible count.
    assert "About 12 results" in page
    assert "estimates from a sample" in page
    assert "(about 12)" in page
    assert "Secret lantern" not in page and "hidden-tag" not in page


def test_many_matches_are_estimated_in_the_api_and_exclude_members_only(client, lanterns):
    public, _ = lanterns
    data = client.get("/api/v1/search?q=lantern").get_json()
    assert data["total_estimated"] is True
    assert data["total"] == 12  # the 5 members-only norms are not counted
    facets = {
        name: {v["key"]: v["count"] for v in values} for name, values in data["facets"].items()
    }
    assert facets["community"] == {public.slug: 12}
    assert facets["tag"] == {"lights": 12}
    assert len(data["results"]) == 10 and data["has_next"] is True


def test_a_member_counts_their_members_only_matches(client, login_as, factory, lanterns):
    _, private = lanterns
    login_as(factory.member(private))
    data = client.get("/api/v1/search?q=lantern").get_json()
    assert data["total_estimated"] is True
    assert data["total"] == 17


def test_few_matches_are_counted_exactly(client, lanterns):
    data = client.get("/api/v1/search?q=lantern 3").get_json()
    assert (data["total"], data["total_estimated"]) == (1, False)
    exact = client.get("/search?q=secret").get_data(as_text=True)
    assert "No results" in exact and "About" not in exact


def test_a_sample_showing_few_matches_falls_back_to_counting(app, monkeypatch, lanterns):
    """A planner that guesses too many costs a sample, then the count is exact."""
    monkeypatch.setattr(counting, "planned_rows", lambda *args: 1e9)
    app.config["SEARCH_EXACT_COUNT_UP_TO"] = 50
    public, _ = lanterns
    query = build_query("lantern", {}, {public.id: public}, per_page=10)
    result = backend_for(app).search(query)
    assert (result.total, result.total_estimated) == (12, False)


def test_a_planner_guessing_too_few_costs_a_bounded_pass_then_a_sample(app, monkeypatch, lanterns):
    monkeypatch.setattr(counting, "planned_rows", lambda *args: 0.0)
    passes = []
    exact_counts = counting.exact_counts

    def counted(connection, conditions, params, limit):
        facets = exact_counts(connection, conditions, params, limit)
        passes.append((limit, sum(facets["community_id"].values())))
        return facets

    monkeypatch.setattr(counting, "exact_counts", counted)
    public, _ = lanterns
    query = build_query("lantern", {}, {public.id: public}, per_page=10)
    result = backend_for(app).search(query)
    assert passes == [(4, 4)]  # stopped one row past the limit of 3
    assert (result.total, result.total_estimated) == (12, True)


def test_a_table_never_analysed_is_counted_in_full(app, monkeypatch, lanterns):
    """No size to scale a sample by: every match is counted, exactly."""
    monkeypatch.setattr(counting, "planned_rows", lambda *args: 0.0)
    monkeypatch.setattr(counting, "sample_counts", lambda *args: None)
    public, _ = lanterns
    query = build_query("lantern", {}, {public.id: public}, per_page=10)
    result = backend_for(app).search(query)
    assert (result.total, result.total_estimated) == (12, False)


def test_a_rebuild_leaves_the_table_analysed(app, lanterns):
    """Estimates and plans need the table's size: a rebuild measures it at once."""
    from sqlalchemy import text

    from normhub.db import get_engine

    engine = get_engine(app)
    with engine.begin() as connection:
        # As a never-analysed table looks: no size known (-1 since PostgreSQL 14).
        connection.execute(
            text("UPDATE pg_class SET reltuples = -1 WHERE relname = 'search_documents'")
        )
    backend_for(app).rebuild()
    with engine.connect() as connection:
        size = connection.scalar(
            text("SELECT reltuples FROM pg_class WHERE relname = 'search_documents'")
        )
    assert size >= 17  # the lanterns: 12 public norms and 5 members-only ones
