"""Running a ``SearchQuery`` on ``search_documents``: visibility, total and facets, the page.

Visibility is a condition of every statement (``community_id`` among the
viewer's communities), so totals, facet counts, pages and snippets never
include anything from a members-only community the viewer is not in.

Ranking follows the Whoosh backend: up to ``CANDIDATES`` matches are all
ranked; beyond that, candidates are taken tier by tier (every word in the
title, then in title/tags/summary, then anywhere), newest first within a
tier, and only those are ranked. Ranking every match of a common word costs
time in proportion to the matches; the tiers keep it bounded. The candidates
are ranked by Whoosh's BM25F (``ranking``); equal scores put the most
recently written document first, as Whoosh does. Whoosh adds no boost for
recency or status beyond that tie-break, so neither does this.

The total and the facet counts come from ``counting``: exact up to 2,000
matches (``SEARCH_EXACT_COUNT_UP_TO``), estimated from a sample beyond, and
said to be.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import text as sql
from sqlalchemy.engine import Connection

from normhub.communities.models import Community
from normhub.search.postgres import counting, parsing, ranking
from normhub.search.query import SearchQuery
from normhub.search.results import SearchHit, SearchResult, facet_values
from normhub.text import with_direction_closed

CANDIDATES = 200
# Up to this many matches, "newest first" sorts them rather than walk the seq index.
FEW_MATCHES = 5000
TIERS = (parsing.TITLE_TIER, parsing.HEAD_TIER)
SNIPPET_CHARS = 220
_START, _STOP = "\x02", "\x03"
HEADLINE_OPTIONS = (
    f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)


@dataclass
class Plan:
    """What the statements below need: the tsqueries as text and the plain conditions."""

    match: str  # "" for no word condition
    rank: str  # "" when nothing is ranked (only filters or exclusions)
    tiers: list[str]
    conditions: str
    params: dict
    by_tags: bool = False  # only typed filters, a tag among them: fewest tags first
    tree: object = None  # the parsed query, for ``ranking``
    filters: str = ""  # ``conditions`` but the words' match


def plan(query: SearchQuery, tree) -> Plan:
    values = [parsing.Value(f"tag:{f.value}") for f in query.filters if f.field == "tag"]
    node = parsing.And([tree, *values]) if tree is not None else parsing.And(values)
    match = parsing.matching(node) or ""
    conditions = ["community_id = ANY(CAST(:communities AS int[]))"]
    params: dict = {"communities": sorted(query.communities)}
    for position, selected in enumerate(query.filters):
        if selected.field in ("status", "kind"):
            conditions.append(f"{selected.field} = :filter{position}")
            params[f"filter{position}"] = selected.value
        elif selected.field == "community_id":
            conditions.append(f"community_id = :filter{position}")
            params[f"filter{position}"] = int(selected.value)
    filters = " AND ".join(conditions)
    if match:
        conditions.append("words @@ CAST(:match AS tsquery)")
        params["match"] = match
    rank = "" if tree is None or parsing.only_exclusions(tree) else parsing.ranking(tree)
    tiers = [found for tier in TIERS if (found := parsing.matching(node, tier))]
    by_tags = not rank and tree is not None and parsing.has_tag(tree)
    return Plan(match, rank, tiers, " AND ".join(conditions), params, by_tags, tree, filters)


@contextmanager
def reading(engine) -> Iterator[Connection]:
    """A connection for searching, in a transaction that prefers the GIN index.

    The planner prices matching a row's tsvector as cheap, so for a common word it
    reads the whole table and matches every row (detoasting each tsvector) where the
    index's bitmap finds the same rows without matching any: several times slower.
    """
    with engine.connect() as connection, connection.begin():
        connection.execute(sql("SET LOCAL enable_seqscan = off"))
        yield connection


def run(
    connection: Connection,
    query: SearchQuery,
    tree,
    result: SearchResult,
    exact_up_to: int = counting.EXACT_UP_TO,
    statistics: ranking.StatisticsCache | None = None,
) -> None:
    """Fill ``result`` with the total, facets and hits of its page."""
    found = plan(query, tree)
    counts = counting.count(connection, found.conditions, found.params, exact_up_to)
    result.total, result.total_estimated = counts.total, counts.estimated
    result.facets = facet_values(counts.facets, query.communities)
    start = (result.page - 1) * result.per_page
    if start >= result.total:
        return
    limit = start + result.per_page
    ids = ranked_ids(connection, found, limit, result.total, statistics)[start:]
    result.hits = hits(connection, ids, found.rank, query.communities)


def ranked_ids(
    connection: Connection,
    found: Plan,
    limit: int,
    total: int,
    statistics: ranking.StatisticsCache | None = None,
) -> list[str]:
    """The ids of the best ``limit`` matches, best first."""
    if not found.rank:
        # Whoosh scores a typed tag by BM25 on the tags, which favours fewer of them.
        fewest_tags = "length(tags) - length(replace(tags, ',', '')), " if found.by_tags else ""
        statement = sql(
            f"SELECT id FROM search_documents WHERE {found.conditions} "  # noqa: S608
            f"ORDER BY {fewest_tags}{_newest(total)} DESC LIMIT :limit"
        )
        return list(connection.scalars(statement, {**found.params, "limit": limit}))
    budget = max(limit, CANDIDATES)
    if total <= budget:
        statement = sql(f"SELECT id FROM search_documents WHERE {found.conditions}")  # noqa: S608
        candidates = list(connection.scalars(statement, found.params))
    else:
        candidates = _candidates(connection, found, budget, total)
    return ranking.ranked(connection, candidates, found.tree, limit, statistics)


def _newest(total: int) -> str:
    """Newest first: along the ``seq`` index when matches are many (the first ones found
    suffice), else sorted after the GIN index found them all (walking ``seq`` would read
    past every non-match)."""
    return "seq" if total > FEW_MATCHES else "seq + 0"


def _candidates(connection: Connection, found: Plan, budget: int, total: int) -> list[str]:
    """Up to ``budget`` matches: tier by tier, newest first within each."""
    taken: list[str] = []
    for tier in [*found.tiers, None]:
        params = {**found.params, "tier": tier, "taken": taken, "remaining": budget - len(taken)}
        taken.extend(connection.scalars(_tier_statement(found, tier, total), params))
        if len(taken) >= budget:
            break
    return taken


def _tier_statement(found: Plan, tier: str | None, total: int):
    if tier is None:
        return sql(
            f"SELECT id FROM search_documents WHERE {found.conditions} "  # noqa: S608
            f"AND NOT (id = ANY(CAST(:taken AS text[]))) ORDER BY {_newest(total)} DESC "
            "LIMIT :remaining"
        )
    if "<" not in found.match:
        return sql(
            f"SELECT id FROM search_documents WHERE {found.conditions} "  # noqa: S608
            "AND words @@ CAST(:tier AS tsquery) AND NOT (id = ANY(CAST(:taken AS text[]))) "
            "ORDER BY seq + 0 DESC LIMIT :remaining"
        )
    # A phrase is checked on each row's positions (its tsvector read, 3.5 kB for a
    # norm), where the tier's terms are answered by the index alone. So the tier's
    # rows are put newest first, and the phrase checked on them in that order only
    # until enough are found: 230 rows read, not all 1,300 of a tier.
    return sql(
        "SELECT id FROM (SELECT id, words FROM search_documents "  # noqa: S608
        f"WHERE {found.filters} AND words @@ CAST(:tier AS tsquery) "
        "AND NOT (id = ANY(CAST(:taken AS text[]))) ORDER BY seq + 0 DESC OFFSET 0) AS tier "
        "WHERE words @@ CAST(:match AS tsquery) LIMIT :remaining"
    )


# The text is HTML-escaped *before* ts_headline puts its markers in (as it was for
# indexing), so the only markup a snippet carries is the <mark> made from them.


def _headline(name: str) -> str:
    text = parsing.escaped(f"translate(coalesce(d.{name}, ''), :markers, '')")
    return (
        f"ts_headline('{parsing.CONFIG}', {text}, CAST(:rank AS tsquery), :options) "
        f"AS {name}_headline"
    )


_PAGE = sql(
    "SELECT d.id, d.kind, d.norm_id, d.comment_id, d.community_id, d.community, d.status, "  # noqa: S608
    "d.tags, d.author, d.created, d.title, d.norm_title, d.norm_slug, d.summary, d.body, "
    + ", ".join(_headline(name) for name in ("summary", "body", "assumptions"))
    + " FROM search_documents d WHERE d.id = ANY(CAST(:ids AS text[]))"
)


def hits(
    connection: Connection, ids: list[str], rank: str, communities: dict[int, Community]
) -> list[SearchHit]:
    if not ids:
        return []
    rows = connection.execute(
        _PAGE,
        {"ids": ids, "rank": rank, "markers": _START + _STOP, "options": HEADLINE_OPTIONS},
    ).mappings()
    by_id = {row["id"]: row for row in rows}
    return [_hit(by_id[i], communities) for i in ids if i in by_id]


def _hit(row, communities: dict[int, Community]) -> SearchHit:
    community = communities.get(row["community_id"])
    if row["kind"] == "norm":
        names, fallback, title = ("summary", "body", "assumptions"), row["summary"], row["title"]
    else:
        names, fallback, title = ("body",), row["body"], row["norm_title"]
    return SearchHit(
        kind=row["kind"],
        title=title or "",
        community_slug=row["community"] or "",
        community_name=community.name if community else (row["community"] or ""),
        norm_slug=row["norm_slug"] or "",
        norm_id=row["norm_id"],
        comment_id=row["comment_id"],
        status=row["status"] or None,
        author=row["author"] or "",
        created=row["created"],
        snippet=snippet([row[f"{name}_headline"] for name in names], fallback or ""),
        tags=[tag for tag in (row["tags"] or "").split(",") if tag],
    )


def _closed(escaped: str) -> str:
    # Each piece closes the direction controls it opens (normhub.text), as Whoosh's do.
    # The text came escaped from the database; any bracket left would be a bug: escape it.
    return with_direction_closed(escaped).replace("<", "&lt;").replace(">", "&gt;")


def marked(headline: str) -> Markup:
    """An escaped headline with its markers made ``<mark>`` (the markers came after escaping)."""
    out = []
    for position, piece in enumerate(headline.split(_START)):
        if position == 0:
            out.append(_closed(piece))
            continue
        inside, _, after = piece.partition(_STOP)
        out.append(f"<mark>{_closed(inside)}</mark>{_closed(after)}")
    # Safe: the text was escaped before the markers went in; only <mark> tags were added.
    return Markup("".join(out))  # noqa: S704


def snippet(headlines: list[str | None], fallback: str) -> Markup:
    """The first headline that marks a match, else the start of ``fallback``."""
    for headline in headlines:
        if headline and _START in headline:
            return marked(headline)
    if len(fallback) > SNIPPET_CHARS:
        fallback = fallback[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return escape(with_direction_closed(fallback))
