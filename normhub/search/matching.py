"""Exact totals and facet counts over large result sets, fast.

Whoosh finds matching documents one at a time in Python, which costs about a
microsecond per match: fine for ranking the top hits (its block-max skipping
avoids most documents) but far too slow to count 100,000 matches for a total
and facets. So the *set* of matches is computed here with set algebra on
posting lists read a block at a time (C-speed set operations), per segment:
visibility and facet filters are set intersections, and facet counts are
sizes of intersections with per-value document sets cached per segment
(segments never change, apart from deletions, which are subtracted).

Ranking still goes through Whoosh (BM25F, field boosts, phrases), filtered by
the resulting set, so the ranked page, the total and the facets always agree.
"""

from __future__ import annotations

import heapq
import threading
from collections import OrderedDict
from collections.abc import Iterable

from whoosh import query as wq
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

FACET_FIELDS = ("community_id", "status", "kind", "tag")

_MAX_SEGMENTS = 64
_MAX_CACHED_TERMS = 512


class SegmentSets:
    """Document sets of one immutable segment: per facet value, and recently used terms."""

    def __init__(self, reader):
        self.doc_count_all = reader.doc_count_all()
        self.values: dict[str, dict[str, frozenset[int]]] = {}
        self.terms: OrderedDict[tuple[str, bytes], frozenset[int]] = OrderedDict()
        self.lock = threading.Lock()

    def field_values(self, reader, fieldname: str) -> dict[str, frozenset[int]]:
        found = self.values.get(fieldname)
        if found is None:
            found = {}
            if fieldname in reader.indexed_field_names():
                for btext in reader.lexicon(fieldname):
                    found[btext.decode("utf-8")] = frozenset(_raw_ids(reader, fieldname, btext))
            self.values[fieldname] = found
        return found

    def term(self, reader, fieldname: str, btext: bytes) -> frozenset[int]:
        key = (fieldname, btext)
        with self.lock:
            found = self.terms.get(key)
            if found is not None:
                self.terms.move_to_end(key)
                return found
        found = frozenset(_raw_ids(reader, fieldname, btext))
        with self.lock:
            self.terms[key] = found
            while len(self.terms) > _MAX_CACHED_TERMS:
                self.terms.popitem(last=False)
        return found


_segments: OrderedDict[str, SegmentSets] = OrderedDict()
_segments_lock = threading.Lock()


def segment_sets(reader) -> SegmentSets:
    # Segment ids are random, so they do not collide across indexes.
    key = f"{reader.segment().segment_id()}:{reader.doc_count_all()}"
    with _segments_lock:
        found = _segments.get(key)
        if found is not None:
            _segments.move_to_end(key)
            return found
        found = _segments[key] = SegmentSets(reader)
        while len(_segments) > _MAX_SEGMENTS:
            _segments.popitem(last=False)
        return found


def _raw_ids(reader, fieldname: str, btext: bytes) -> list[int]:
    """Every docnum posted for a term, deletions included, read a block at a time."""
    try:
        matcher = reader.postings(fieldname, btext)
    except TermNotFound:
        return []
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    ids: list[int] = []
    if hasattr(matcher, "_next_block") and hasattr(matcher, "block_min_id"):
        while matcher.is_active():
            matcher.block_min_id()  # loads the block's ids
            ids.extend(matcher._ids)
            matcher._next_block()
    else:
        ids.extend(matcher.all_ids())
    return ids


def _term_bytes(reader, fieldname: str, text) -> bytes | None:
    if fieldname not in reader.schema:
        return None
    if isinstance(text, bytes):
        return text
    return reader.schema[fieldname].to_bytes(text)


class SetEvaluator:
    """Evaluates a Whoosh query to the set of matching docnums of one segment."""

    def __init__(self, segment_searcher):
        self.searcher = segment_searcher
        self.reader = segment_searcher.reader()
        self.sets = segment_sets(self.reader)
        self._all: frozenset[int] | None = None

    def everything(self) -> frozenset[int]:
        if self._all is None:
            self._all = frozenset(range(self.sets.doc_count_all))
        return self._all

    def term(self, fieldname: str, text) -> frozenset[int]:
        btext = _term_bytes(self.reader, fieldname, text)
        if btext is None:
            return frozenset()
        return self.sets.term(self.reader, fieldname, btext)

    def __call__(self, q: wq.Query) -> frozenset[int] | set[int]:
        if isinstance(q, wq.Term):
            return self.term(q.fieldname, q.text)
        if isinstance(q, wq.Every):
            return self.everything()
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return frozenset()
        if isinstance(q, wq.AndNot):
            return self(q.a) - self(q.b)
        if isinstance(q, wq.Not):
            return self.everything() - self(q.query)
        if isinstance(q, wq.And | wq.Require):
            parts = q.subqueries if isinstance(q, wq.And) else (q.a, q.b)
            sets = sorted((self(sub) for sub in parts), key=len)
            if not sets:
                return frozenset()
            result = set(sets[0])
            for other in sets[1:]:
                if not result:
                    break
                result &= other
            return result
        if isinstance(q, wq.Or | wq.DisjunctionMax):
            result: set[int] = set()
            for sub in q.subqueries:
                result |= self(sub)
            return result
        if isinstance(q, wq.AndMaybe):
            return self(q.a)
        if isinstance(q, wq.Phrase):
            return self.phrase(q)
        # Anything unusual: ask Whoosh.
        return set(q.docs(self.searcher))

    def phrase(self, q: wq.Phrase) -> frozenset[int]:
        """Documents with the words in order: position checks only where all words occur.

        Checking positions is the slow part (Whoosh decodes them in Python),
        so the result is cached with the segment's term sets: a segment's
        postings never change.
        """
        key = (q.fieldname, ("phrase", q.slop, *q.words))
        with self.sets.lock:
            found = self.sets.terms.get(key)
        if found is not None:
            return found
        word_sets = sorted((self.term(q.fieldname, word) for word in q.words), key=len)
        candidates = set(word_sets[0]) if word_sets else set()
        for other in word_sets[1:]:
            candidates &= other
        found = frozenset(q.docs(self.searcher)) if candidates else frozenset()
        with self.sets.lock:
            self.sets.terms[key] = found
        return found


def matching_sets(searcher, q: wq.Query, restrictions: Iterable[wq.Query]):
    """Per segment: (segment searcher, offset, matching docnums minus deletions)."""
    restrictions = list(restrictions)
    for segment_searcher, offset in searcher.leaf_searchers():
        evaluate = SetEvaluator(segment_searcher)
        docs = evaluate(q)
        for restriction in restrictions:
            if not docs:
                break
            docs = docs & evaluate(restriction)
        deleted = evaluate.reader.deleted_docs_set if evaluate.reader.has_deletions() else None
        if deleted and docs:
            docs = docs - deleted
        yield evaluate, offset, docs


def facet_counts(evaluate: SetEvaluator, docs) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for fieldname in FACET_FIELDS:
        values = evaluate.sets.field_values(evaluate.reader, fieldname)
        field_counts: dict[str, int] = {}
        for value, posted in values.items():
            # len(a & b) walks the smaller set; posted lists include deleted
            # docs but ``docs`` does not, so the count is exact.
            n = len(docs & posted) if len(posted) < len(docs) else len(posted & docs)
            if n:
                field_counts[value] = n
        counts[fieldname] = field_counts
    return counts


# --- ranking ---------------------------------------------------------------------

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
    total = sum(len(docs) for _, _, docs in segments)
    budget = max(limit, CANDIDATES)
    if total <= budget:
        chosen = [(evaluate, offset, set(docs)) for evaluate, offset, docs in segments]
    else:
        chosen = [(evaluate, offset, set()) for evaluate, offset, _ in segments]
        remaining = budget
        for fields in (*TIERS, None):
            tier_query = restrict_fields(parsed, fields) if fields else None
            if tier_query is wq.NullQuery:
                continue
            pool: list[int] = []
            for (evaluate, offset, docs), (_, _, taken) in zip(segments, chosen, strict=True):
                tier = docs if tier_query is None else (evaluate(tier_query) & docs)
                # Newest first: the largest docnums of this segment, then across segments.
                pool.extend(offset + d for d in heapq.nlargest(remaining, tier - taken))
            for docnum in heapq.nlargest(remaining, pool):
                for _evaluate, offset, taken in reversed(chosen):
                    if docnum >= offset:
                        taken.add(docnum - offset)
                        break
            remaining = budget - sum(len(taken) for _, _, taken in chosen)
            if remaining <= 0:
                break
    context = searcher.context(needs_current=True, top_query=parsed)
    scored: list[tuple[float, int]] = []
    for evaluate, offset, candidates in chosen:
        if not candidates:
            continue
        matcher = parsed.matcher(evaluate.searcher, context)
        for docnum in sorted(candidates):
            if not matcher.is_active():
                break
            matcher.skip_to(docnum)
            if matcher.is_active() and matcher.id() == docnum:
                scored.append((matcher.score(), offset + docnum))
            else:
                scored.append((0.0, offset + docnum))
    scored.sort(key=lambda item: (-item[0], -item[1]))
    return [docnum for _, docnum in scored[:limit]]
