"""Ranking the matches found by the bitsets: candidates, then BM25F from cached term weights.

``Scorer`` reproduces Whoosh's BM25F scores from the term weights the bitsets
cache, instead of stepping Whoosh's matchers through the posting blocks.
Worth it, measured (``benchmarks/search.py --compare``, 55,000 documents):
Whoosh's matchers scoring the same candidates give the same page on all 20
queries of the mix but take 6x as long at the median (1.6x to 9.5x); see
benchmarks/results/search.md. Query nodes it does not reproduce fall back to
Whoosh's matchers.
"""

from __future__ import annotations

from bisect import bisect_right

from whoosh import query as wq
from whoosh import scoring

from normhub.search.whoosh.matching import (
    SetEvaluator,
    bits_of,
    docnums_of,
    newest,
    term_bytes,
)

# Up to this many matches are all scored with BM25F. Beyond it, candidates are
# taken tier by tier (all words in the title, then in title/tags/summary,
# then anywhere), newest first within a tier, and those are scored exactly.
# Scoring every one of 100,000 matches through Whoosh's matchers would cost
# seconds; the tiers keep a page under a few milliseconds of scoring.
CANDIDATES = 200
TIERS = (frozenset({"title"}), frozenset({"title", "tag", "summary"}))


def restrict_fields(q: wq.Query, fields: frozenset[str], inside_or: bool = False) -> wq.Query:
    """``q`` with its word alternatives limited to ``fields`` (filters are kept)."""
    null = wq.NullQuery
    if isinstance(q, wq.Term | wq.Phrase):
        return q if not inside_or or q.fieldname in fields else null
    if isinstance(q, wq.Or | wq.DisjunctionMax):
        subs = [restrict_fields(sub, fields, True) for sub in q.subqueries]
        subs = [sub for sub in subs if sub is not null]
        return wq.Or(subs) if subs else null
    if isinstance(q, wq.And):
        subs = [restrict_fields(sub, fields, inside_or) for sub in q.subqueries]
        if any(sub is null for sub in subs):
            return null
        return wq.And(subs)
    if isinstance(q, wq.AndNot | wq.AndMaybe):
        return restrict_fields(q.a, fields, inside_or)
    return q


def rank(searcher, parsed: wq.Query, segments: list, limit: int) -> list[int]:
    """Global docnums of the best ``limit`` matches, best first."""
    total = sum(docs.bit_count() for _, _, docs in segments)
    budget = max(limit, CANDIDATES)
    if total <= budget:
        chosen = list(segments)
    else:
        chosen = [(evaluate, offset, 0) for evaluate, offset, _ in segments]
        offsets = [offset for _, offset, _ in segments]
        remaining = budget
        for fields in (*TIERS, None):
            tier_query = restrict_fields(parsed, fields) if fields else None
            if tier_query is wq.NullQuery:
                continue
            tiers = []
            for (evaluate, offset, docs), (_, _, taken) in zip(segments, chosen, strict=True):
                tier = docs if tier_query is None else evaluate(tier_query) & docs
                tiers.append((evaluate, offset, tier & ~taken))
            picked: list[list[int]] = [[] for _ in segments]
            for docnum in newest(tiers, remaining):
                position = bisect_right(offsets, docnum) - 1
                picked[position].append(docnum - offsets[position])
            chosen = [
                (evaluate, offset, taken | bits_of(local, evaluate.sets.doc_count_all))
                if local
                else (evaluate, offset, taken)
                for (evaluate, offset, taken), local in zip(chosen, picked, strict=True)
            ]
            remaining = budget - sum(taken.bit_count() for _, _, taken in chosen)
            if remaining <= 0:
                break
    scored: list[tuple[float, int]] = []
    for evaluate, offset, candidates in chosen:
        if not candidates:
            continue
        docnums = docnums_of(candidates)
        scores = Scorer(searcher, evaluate, docnums, candidates).scores(parsed)
        if scores is None:
            scores = _whoosh_scores(searcher, evaluate, parsed, docnums)
        scored.extend(
            (score, offset + docnum) for score, docnum in zip(scores, docnums, strict=True)
        )
    scored.sort(key=lambda item: (-item[0], -item[1]))
    return [docnum for _, docnum in scored[:limit]]


def _whoosh_scores(searcher, evaluate, parsed: wq.Query, docnums: list[int]) -> list[float]:
    context = searcher.context(needs_current=True, top_query=parsed)
    matcher = parsed.matcher(evaluate.searcher, context)
    scores = []
    for docnum in docnums:
        score = 0.0
        if matcher.is_active():
            matcher.skip_to(docnum)
            if matcher.is_active() and matcher.id() == docnum:
                score = matcher.score()
        scores.append(score)
    return scores


class _Unsupported(Exception):
    """A query node the scorer below does not reproduce: Whoosh's matchers score it."""


class Scorer:
    """Whoosh's BM25F scores of some documents of one segment, from cached postings.

    Whoosh's matchers step through posting blocks in Python, unpickling each
    block's positions on the way, which costs tens of milliseconds for 200
    documents of a big segment. The same scores come from the term weights
    cached with the segment's bitsets: per term, BM25F of its weight and the
    document's field length with the index-wide idf and average length; Or and
    And add their matching parts (And needs all of them), AndNot scores its
    first part, Not gives 1.0, a phrase adds the scores of its words, boosts multiply —
    exactly how Whoosh's Union, Intersection, AndNot and span matchers combine
    scores. Anything else is left to Whoosh (``scores`` returns None).
    """

    def __init__(self, searcher, evaluate: SetEvaluator, docnums: list[int], candidates: int):
        self.top = searcher
        self.evaluate = evaluate
        self.reader = evaluate.reader
        self.docnums = docnums
        self.candidates = candidates
        self.weighting = searcher.weighting
        self._lengths: dict[str, dict[int, int]] = {}

    def scores(self, q: wq.Query) -> list[float] | None:
        if not isinstance(self.weighting, scoring.BM25F):
            return None
        try:
            found = self._node(q)
        except _Unsupported:
            return None
        return [0.0 if score is None else score for score in found]

    def _node(self, q: wq.Query) -> list[float | None]:
        if isinstance(q, wq.Term):
            return self._term(q.fieldname, q.text, q.boost)
        if isinstance(q, wq.Phrase):
            return self._phrase(q)
        if type(q) in (wq.Or, wq.And):
            if isinstance(q, wq.Or) and (q.scale or q.minmatch):
                raise _Unsupported(q)
            subs = q.subqueries
            if not subs:
                return [None] * len(self.docnums)
            if len(subs) == 1:  # Whoosh uses the lone part's matcher, without this boost
                return self._node(subs[0])
            parts = [self._node(sub) for sub in subs]
            combine = _sum_any if isinstance(q, wq.Or) else _sum_all
            return _boosted([combine(row) for row in zip(*parts, strict=True)], q.boost)
        if type(q) is wq.Not:
            # Whoosh's InverseMatcher: weight 1.0 for every document outside the query.
            excluded = set(docnums_of(self.candidates & self.evaluate(q.query)))
            return [None if docnum in excluded else 1.0 for docnum in self.docnums]
        if type(q) is wq.AndNot:
            excluded = set(docnums_of(self.candidates & self.evaluate(q.b)))
            return [
                None if docnum in excluded else score
                for docnum, score in zip(self.docnums, self._node(q.a), strict=True)
            ]
        raise _Unsupported(q)

    def _term(self, fieldname: str, text, boost: float) -> list[float | None]:
        missing = [None] * len(self.docnums)
        try:
            btext = term_bytes(self.reader, fieldname, text)
        except ValueError:  # an And that stopped early may leave a term unconverted
            return missing
        if btext is None:
            return missing
        field = self.reader.schema[fieldname]
        postings = self.evaluate.sets.postings(self.reader, fieldname, btext)
        if not postings.ids:  # not in this segment
            return missing
        if field.scorable:
            weighting = self.weighting
            b = weighting._field_B.get(fieldname, weighting.B)
            k1 = weighting.K1
            idf = self.top.idf(fieldname, btext)
            average = self.top.avg_field_length(fieldname) or 1
            lengths = self._field_lengths(fieldname)
        found: list[float | None] = []
        for docnum in self.docnums:
            weight = postings.weight(docnum)
            if weight is None:
                found.append(None)
                continue
            if field.scorable:
                length = lengths.get(docnum)
                if length is None:
                    length = lengths[docnum] = self.reader.doc_field_length(docnum, fieldname, 1)
                score = scoring.bm25(idf, weight, length, average, b, k1)
            else:
                score = weight
            found.append(score * boost if boost != 1.0 else score)
        return found

    def _phrase(self, q: wq.Phrase) -> list[float | None]:
        inside = set(docnums_of(self.candidates & self.evaluate.phrase(q)))
        words = [self._term(q.fieldname, word, 1.0) for word in q.words]
        found = []
        for position, docnum in enumerate(self.docnums):
            if docnum not in inside:
                found.append(None)
                continue
            found.append(_sum_all(row[position] for row in words))
        return _boosted(found, q.boost)

    def _field_lengths(self, fieldname: str) -> dict[int, int]:
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            lengths = self._lengths[fieldname] = {}
        return lengths


def _sum_any(scores) -> float | None:
    total = None
    for score in scores:
        if score is not None:
            total = score if total is None else total + score
    return total


def _sum_all(scores) -> float | None:
    total = 0.0
    for score in scores:
        if score is None:
            return None
        total += score
    return total


def _boosted(scores: list[float | None], boost: float) -> list[float | None]:
    if boost == 1.0:
        return scores
    return [None if score is None else score * boost for score in scores]
