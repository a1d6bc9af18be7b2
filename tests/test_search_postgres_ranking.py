"""How the PostgreSQL backend ranks its candidates: Whoosh's BM25F, from each row's tsvector."""

from __future__ import annotations

import pytest
from sqlalchemy import text as sql

from normhub.search.backend import backend_for
from normhub.search.postgres import ranking
from normhub.search.query import build_query
from tests.conftest import SEARCH_BACKEND

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        SEARCH_BACKEND not in (None, "postgres"), reason="this run searches with Whoosh"
    ),
]


def test_each_fields_word_count_is_read_back_from_ts_rank(app):
    """The counts ranking reads (``_TF_BY_RANK``) are those the tsvector holds, field by field."""
    ranks = ", ".join(
        f"ts_rank('{weights}', v.words, 'lamp', 0)" for weights in ranking._CUMULATIVE_WEIGHTS
    )
    statement = sql(
        f"SELECT ARRAY[{ranks}] FROM (SELECT "  # noqa: S608 (constants)
        "setweight(to_tsvector('simple', 'lamp by the door'), 'A') "
        "|| setweight(to_tsvector('simple', repeat('lamp post ', :summary)), 'B') "
        "|| setweight(to_tsvector('simple', 'no light here'), 'C') "
        "|| setweight(to_tsvector('simple', repeat('a lamp ', :body)), 'D') AS words) AS v"
    )
    with backend_for(app).engine.connect() as connection:
        for summary, body in ((0, 0), (2, 7), (1, 40), (5, 120)):
            found = connection.scalar(statement, {"summary": summary, "body": body})
            assert ranking._field_counts(found) == [1, summary, 0, body]


def _ranked(app, community, text: str) -> list[str]:
    query = build_query(text, {}, {community.id: community}, per_page=10)
    return [hit.title for hit in backend_for(app).search(query).hits]


def test_a_title_word_outranks_the_same_word_repeated_in_an_essay(app, factory):
    community = factory.community()
    factory.norm(community, title="Tidy shelves", body="Lantern " * 40)
    factory.norm(community, title="Lantern by the door", body="Keep it lit.")
    assert _ranked(app, community, "lantern") == ["Lantern by the door", "Tidy shelves"]


def test_a_phrase_counts_only_in_the_fields_that_hold_it(app, factory):
    community = factory.community()
    factory.norm(community, title="Quiet garden, late hours", body="Quiet hours start at ten.")
    factory.norm(community, title="Quiet hours", body="From ten to seven.")
    assert _ranked(app, community, '"quiet hours"') == [
        "Quiet hours",
        "Quiet garden, late hours",
    ]
