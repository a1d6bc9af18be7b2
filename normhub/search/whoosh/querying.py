"""Running a ``SearchQuery`` on the Whoosh index: parsing, visibility, totals, facets, the page.

Visibility is applied inside the search, to the bitsets of matches: the
documents of every community the viewer may not see are dropped before
anything is counted, so totals, facet counts and pages never include
anything from a members-only community the viewer is not in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from whoosh import qparser
from whoosh import query as wq

from normhub.communities.models import Community
from normhub.search.query import DEFAULT_FIELDS, VALUE_FIELDS, FieldFilter, FilterValues
from normhub.search.results import FACET_FIELDS, SearchHit, SearchResult, facet_values
from normhub.search.whoosh import matching, scoring
from normhub.search.whoosh.schema import SCHEMA
from normhub.search.whoosh.snippets import snippet


@lru_cache(maxsize=1)
def _parser() -> qparser.QueryParser:
    parser = qparser.QueryParser(
        None,
        SCHEMA,
        plugins=[
            qparser.PhrasePlugin(),
            qparser.GroupPlugin(),
            qparser.OperatorsPlugin(AndMaybe=None, Require=None),
            qparser.PlusMinusPlugin(plusexpr=r"(?<!\S)\+", minusexpr=r"(?<!\S)-"),
            qparser.FieldsPlugin(remove_unknown=True),
        ],
        group=qparser.AndGroup,
    )
    parser.add_plugin(qparser.MultifieldPlugin(list(DEFAULT_FIELDS), fieldboosts=DEFAULT_FIELDS))
    return parser


class _Normalizer:
    """Rewrites the filter values of a parsed query into the values the index holds."""

    def __init__(self, values: FilterValues):
        self.values = values

    def __call__(self, q: wq.Query) -> wq.Query:
        if isinstance(q, wq.Phrase) and q.fieldname in VALUE_FIELDS:
            q = wq.Term(q.fieldname, " ".join(q.words), boost=q.boost)
        elif isinstance(q, wq.Phrase) and q.fieldname == "tag":
            return wq.Term("tag", self.values.tag_of_words(q.words), boost=q.boost)
        if isinstance(q, wq.Term) and isinstance(q.text, str):
            if q.fieldname == "status":
                return wq.Term("status", self.values.status(q.text), boost=q.boost)
            if q.fieldname == "community":
                return wq.Term("community", self.values.community_slug(q.text), boost=q.boost)
            if q.fieldname == "kind":
                return wq.Term("kind", self.values.kind(q.text), boost=q.boost)
        return q


def is_nothing(q: wq.Query) -> bool:
    return q is wq.NullQuery or isinstance(q, type(wq.NullQuery))


def parse_query(text: str, communities: dict[int, Community]) -> tuple[wq.Query, list[str]]:
    values = FilterValues(communities)
    parsed = _parser().parse(text)
    parsed = parsed.accept(_Normalizer(values)).normalize()
    if isinstance(parsed, wq.Not):
        # Only exclusions ("NOT spam"): everything visible except those.
        parsed = wq.AndNot(wq.Every(), parsed.query)
    return parsed, values.notices()


def filter_terms(filters: list[FieldFilter]) -> list[wq.Query]:
    return [wq.Term(f.field, f.value) for f in filters]


@dataclass
class Found:
    """The visible matches of a query: exact total, facet counts, the best docnums in order."""

    total: int
    counts: dict[str, dict[str, int]]
    docnums: list[int]


def find(searcher, parsed: wq.Query, query, limit: int, start: int = 0) -> Found:
    """Total, facet counts and the best ``limit`` docnums, all over the same visible matches.

    Nothing is ranked when the page starts at ``start`` past the last match.
    """
    allowed_ids = {str(cid) for cid in query.communities}
    segments = []
    counts: dict[str, dict[str, int]] = {name: {} for name in FACET_FIELDS}
    for evaluate, offset, docs in matching.matching_sets(
        searcher, parsed, filter_terms(query.filters)
    ):
        docs = matching.within_communities(evaluate, docs, allowed_ids)
        if not docs:
            continue
        for fieldname, values in matching.facet_counts(evaluate, docs).items():
            for value, n in values.items():
                counts[fieldname][value] = counts[fieldname].get(value, 0) + n
        segments.append((evaluate, offset, docs))
    total = sum(docs.bit_count() for _, _, docs in segments)
    if not segments or start >= total:
        return Found(total, counts, [])
    if is_unranked(parsed):
        # Nothing to score (only filters or exclusions): newest documents first.
        docnums = matching.newest(segments, limit)
    else:
        docnums = scoring.rank(searcher, parsed, segments, limit)
    return Found(total, counts, docnums)


def run(searcher, parsed: wq.Query, query, result: SearchResult) -> None:
    """Fill ``result`` with the total, facets and hits of its page."""
    start = (result.page - 1) * result.per_page
    found = find(searcher, parsed, query, start + result.per_page, start)
    result.total = found.total
    result.facets = facet_values(found.counts, query.communities)
    if not found.docnums:
        return
    stems = {} if is_unranked(parsed) else _stems(parsed)
    result.hits = [
        _hit(searcher.stored_fields(n), query.communities, stems) for n in found.docnums[start:]
    ]


def is_unranked(parsed: wq.Query) -> bool:
    return isinstance(parsed, wq.Every) or (
        isinstance(parsed, wq.AndNot) and isinstance(parsed.a, wq.Every)
    )


def _stems(parsed: wq.Query) -> dict[str, set[str]]:
    stems: dict[str, set[str]] = {}
    for fieldname, text in parsed.iter_all_terms():
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        stems.setdefault(fieldname, set()).add(str(text).lower())
    return stems


def _hit(stored: dict, communities: dict[int, Community], stems: dict[str, set[str]]) -> SearchHit:
    community = communities.get(int(stored["community_id"]))
    kind = stored["kind"]
    if kind == "norm":
        found = snippet(
            stored, ("summary", "body", "assumptions"), stored.get("summary", ""), stems
        )
        title = stored.get("title", "")
    else:
        found = snippet(stored, ("body",), stored.get("body", ""), stems)
        title = stored.get("norm_title", "")
    tags = [t for t in (stored.get("tag") or "").split(",") if t]
    return SearchHit(
        kind=kind,
        title=title,
        community_slug=stored.get("community", ""),
        community_name=community.name if community else stored.get("community", ""),
        norm_slug=stored.get("norm_slug", ""),
        norm_id=int(stored["norm_id"]),
        comment_id=stored.get("comment_id"),
        status=stored.get("status") or None,
        author=stored.get("author", ""),
        created=stored.get("created"),
        snippet=found,
        tags=tags,
    )
