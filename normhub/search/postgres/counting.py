"""The total and the facet counts of a search: exact, or estimated from a sample.

Counting exactly reads a row per visible match (the community, status, kind
and tags of each), so its cost grows with the matches: 136,000 matches of a
common word take a few hundred milliseconds. Up to ``exact_up_to`` matches
(the ``SEARCH_EXACT_COUNT_UP_TO`` setting) the counts are exact. Beyond it
they are estimated: the matches among a fixed share of the table's pages
(``TABLESAMPLE SYSTEM``, always the same pages for the same table), scaled to
the whole table and rounded, and the result says so (``total_estimated``),
which pages and the API show as "about". Which way to count is decided by
the planner's estimate of the matches, checked on the sample before an
estimate is shown, and the exact pass stops one row past the limit: a
planner that guessed wrong costs a sample or a bounded pass, never a
wrong kind of answer nor an unbounded one.

Visibility holds either way: the sample counts only rows of the viewer's
communities, as the exact pass does, so nothing outside them is counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import text as sql
from sqlalchemy.engine import Connection

from normhub.search.results import FACET_FIELDS, rounded

# Rows a sample reads: a count of a few thousand comes within about 15%, of tens of
# thousands within 5%; reading them takes about 6 ms at 220,000 documents.
SAMPLE_ROWS = 4000
EXACT_UP_TO = 2000
# Fixed, so a query's estimate is the same from one page of results to the next.
SAMPLE_SEED = 1


@dataclass
class Counts:
    total: int = 0
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    estimated: bool = False


def count(connection: Connection, conditions: str, params: dict, exact_up_to: int) -> Counts:
    """The visible matches of ``conditions``: counted, or estimated when very many.

    The exact pass stops after ``exact_up_to`` + 1 rows, so a planner that guessed
    too few costs at most that many rows before the sample is taken instead.
    """
    sampled = None
    if planned_rows(connection, conditions, params) > exact_up_to:
        sampled = sample_counts(connection, conditions, params)
        if sampled is not None and sampled.total > exact_up_to:
            return sampled
    facets = exact_counts(connection, conditions, params, exact_up_to + 1)
    total = sum(facets["community_id"].values())
    if total <= exact_up_to:
        return Counts(total, facets)
    sampled = sampled or sample_counts(connection, conditions, params)
    if sampled is None:  # the table was never analysed: nothing to scale by, count them all
        facets = exact_counts(connection, conditions, params, None)
        return Counts(sum(facets["community_id"].values()), facets)
    # More than exact_up_to match for certain, whatever the sample found.
    sampled.total = max(sampled.total, rounded(total))
    return sampled


def planned_rows(connection: Connection, conditions: str, params: dict) -> float:
    """The planner's guess at how many rows match (from the column statistics; no row read)."""
    statement = sql(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM search_documents WHERE {conditions}")  # noqa: S608
    plan = connection.scalar(statement, params)
    if isinstance(plan, str):
        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])


def _folded(rows) -> dict[str, dict[str, float]]:
    """Rows of (community, status, kind, tags, count) as counts by facet field and value."""
    counts: dict[str, dict[str, float]] = {name: {} for name in FACET_FIELDS}
    by_community, by_status = counts["community_id"], counts["status"]
    by_kind, by_tag = counts["kind"], counts["tag"]
    for community_id, status, kind, tags, found in rows:
        key = str(community_id)
        by_community[key] = by_community.get(key, 0) + found
        if status is not None:
            by_status[status] = by_status.get(status, 0) + found
        by_kind[kind] = by_kind.get(kind, 0) + found
        for tag in tags.split(",") if tags else ():
            by_tag[tag] = by_tag.get(tag, 0) + found
    return counts


def exact_counts(connection: Connection, conditions: str, params: dict, limit: int | None) -> dict:
    """Counts by community, status, kind and tag over up to ``limit`` visible matches (all
    of them for None).

    One pass over the matches, grouped by every combination of the four (a few
    thousand rows at most), folded here: cheaper than grouping the matches four
    times in the database.
    """
    statement = sql(
        "SELECT community_id, status, kind, tags, count(*) FROM (SELECT community_id, "  # noqa: S608
        f"status, kind, tags FROM search_documents WHERE {conditions} LIMIT :count_limit) "
        "AS found GROUP BY community_id, status, kind, tags"
    )
    return _folded(connection.execute(statement, {**params, "count_limit": limit}))


_TABLE_ROWS = sql("SELECT reltuples FROM pg_class WHERE oid = 'search_documents'::regclass")
# The share of each kind in the table, from its statistics (ANALYZE reads 30,000 rows).
_KIND_SHARES = sql(
    "SELECT most_common_vals::text::text[], most_common_freqs FROM pg_stats "
    "WHERE schemaname = current_schema() AND tablename = 'search_documents' "
    "AND attname = 'kind'"
)


def sample_counts(connection: Connection, conditions: str, params: dict) -> Counts | None:
    """Counts estimated from the matches among about ``SAMPLE_ROWS`` rows, scaled and rounded.

    The sample takes whole pages, and a page holds a norm or two (long rows) or a
    dozen comments: a sample short of norm pages by chance undercounts what only
    norms match by as much (20% seen). So each kind is scaled apart: the table's
    rows of that kind over the sample's.

    None when the table's size is not known yet (never analysed): nothing to scale by.
    """
    table_rows = connection.scalar(_TABLE_ROWS) or 0
    if table_rows <= 0:
        return None
    percent = min(100.0, 100.0 * SAMPLE_ROWS / table_rows)
    statement = sql(
        "WITH sample AS MATERIALIZED (SELECT community_id, status, kind, tags, "  # noqa: S608
        f"({conditions}) AS hit FROM search_documents "
        f"TABLESAMPLE SYSTEM ({percent:.6f}) REPEATABLE ({SAMPLE_SEED})) "
        "SELECT community_id, status, kind, tags, count(*), (SELECT json_object_agg(kind, n) "
        "FROM (SELECT kind, count(*) AS n FROM sample GROUP BY kind) AS sizes) "
        "FROM sample WHERE hit GROUP BY community_id, status, kind, tags"
    )
    rows = connection.execute(statement, params).all()
    if not rows:
        return Counts(estimated=True)
    shares = _kind_shares(connection)
    scaled = []
    sizes = rows[0][5]
    sampled = sum(sizes.values())
    for community_id, status, kind, tags, found, _sizes in rows:
        share = shares.get(kind)
        scale = table_rows * share / sizes[kind] if share else table_rows / sampled
        scaled.append((community_id, status, kind, tags, found * max(1.0, scale)))
    folded = _folded(scaled)
    facets = {
        name: {value: rounded(found) for value, found in values.items()}
        for name, values in folded.items()
    }
    return Counts(rounded(sum(folded["community_id"].values())), facets, estimated=True)


def _kind_shares(connection: Connection) -> dict[str, float]:
    listed = connection.execute(_KIND_SHARES).first()
    if listed is None or not listed[0]:
        return {}
    return dict(zip(listed[0], listed[1], strict=True))
