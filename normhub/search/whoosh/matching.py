"""Exact totals and facet counts over large result sets, fast.

Whoosh finds matching documents one at a time in Python, which costs about a
microsecond per match: fine for ranking the top hits but far too slow to count
100,000 matches for a total and facets. So the *set* of matches is computed
here per segment as a bitset (a Python int whose bit ``n`` is document ``n``):
terms, facet values and the visibility filter are bitsets built once per
segment (its postings never change; deletions are applied separately), so a
query's total, its facet counts and its visibility filter are a few big-int
``&``/``|`` operations and ``bit_count()`` calls, whatever the number of
matches.

Ranking (``normhub.search.whoosh.scoring``) takes its candidates from the
same bitsets, so the ranked page, the total and the facets always agree.

Worth it, measured (``benchmarks/search.py --compare``, 55,000 documents):
Whoosh's own ``searcher.search`` with the visibility filter and ``groupedby``
facet counts gives the same totals and counts on all 20 queries of the mix but
is 90 to 800 times slower (median 218x; about half a second even with no
matches); see benchmarks/results/search.md.
"""

from __future__ import annotations

import heapq
import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict, deque
from itertools import repeat

from whoosh import query as wq
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

from normhub.search.results import FACET_FIELDS

_MAX_SEGMENTS = 64
# Per segment: a bitset of a 220,000-document segment is 27 kB, and a cached
# posting 8 bytes, so these bound a process's cache near 60 MB.
_MAX_CACHED_TERMS = 1024
_MAX_CACHED_POSTINGS = 4_000_000
_ONE = ord("1")


# --- bitsets ---------------------------------------------------------------------


def bits_of(docnums, size: int) -> int:
    """The bitset of ``docnums`` (all below ``size``), built without a Python-level loop."""
    digits = bytearray(b"0") * size
    deque(map(digits.__setitem__, docnums, repeat(_ONE)), maxlen=0)
    if not size:
        return 0
    digits.reverse()  # int() reads the most significant digit first
    return int(digits, 2)


def docnums_of(bits: int) -> list[int]:
    """The set bits of ``bits``, in ascending order."""
    if not bits:
        return []
    digits = bin(bits)[:1:-1]  # least significant first
    found = []
    position = digits.find("1")
    while position >= 0:
        found.append(position)
        position = digits.find("1", position + 1)
    return found


def highest(bits: int, count: int) -> list[int]:
    """The ``count`` largest set bits of ``bits``, largest first."""
    if not bits or count <= 0:
        return []
    digits = bin(bits)
    top = len(digits) - 1
    found = []
    position = digits.find("1", 2)
    while position >= 0 and len(found) < count:
        found.append(top - position)
        position = digits.find("1", position + 1)
    return found


# --- per-segment caches ------------------------------------------------------------


class TermPostings:
    """One term's postings in one segment: the bitset, and docnums with their weights."""

    __slots__ = ("bits", "ids", "weights")

    def __init__(self, size: int, ids: array, weights: array):
        self.bits = bits_of(ids, size)
        self.ids = ids
        self.weights = weights

    def weight(self, docnum: int) -> float | None:
        ids = self.ids
        position = bisect_left(ids, docnum)
        if position < len(ids) and ids[position] == docnum:
            return self.weights[position]
        return None


class SegmentSets:
    """Bitsets of one immutable segment: per facet value, and recently used terms."""

    def __init__(self, reader):
        self.doc_count_all = reader.doc_count_all()
        self.everything = (1 << self.doc_count_all) - 1
        self.values: dict[str, dict[str, int]] = {}
        # Term postings and phrase bitsets, least recently used first.
        self.terms: OrderedDict[tuple, TermPostings | int] = OrderedDict()
        self.cached_postings = 0
        self.lock = threading.Lock()
        self._deleted: tuple[frozenset[int], int] | None = None

    def field_values(self, reader, fieldname: str) -> dict[str, int]:
        found = self.values.get(fieldname)
        if found is None:
            found = {}
            if fieldname in reader.indexed_field_names():
                for btext in reader.lexicon(fieldname):
                    ids, _ = _read_postings(reader, fieldname, btext)
                    found[btext.decode("utf-8")] = bits_of(ids, self.doc_count_all)
            self.values[fieldname] = found
        return found

    def cached(self, key: tuple):
        with self.lock:
            found = self.terms.get(key)
            if found is not None:
                self.terms.move_to_end(key)
            return found

    def remember(self, key: tuple, found):
        with self.lock:
            if key not in self.terms:
                self.terms[key] = found
                self.cached_postings += _size(found)
            while len(self.terms) > 1 and (
                len(self.terms) > _MAX_CACHED_TERMS or self.cached_postings > _MAX_CACHED_POSTINGS
            ):
                _, dropped = self.terms.popitem(last=False)
                self.cached_postings -= _size(dropped)
        return found

    def postings(self, reader, fieldname: str, btext: bytes) -> TermPostings:
        key = (fieldname, btext)
        found = self.cached(key)
        if found is None:
            ids, weights = _read_postings(reader, fieldname, btext)
            found = self.remember(key, TermPostings(self.doc_count_all, ids, weights))
        return found

    def term(self, reader, fieldname: str, btext: bytes) -> int:
        return self.postings(reader, fieldname, btext).bits

    def deleted(self, reader) -> int:
        """Bitset of the documents deleted from this segment as ``reader`` sees it."""
        if not reader.has_deletions():
            return 0
        deleted = reader.deleted_docs_set
        known = self._deleted
        # Whoosh keeps one set per reader: usually the very same object.
        if known is not None and (known[0] is deleted or known[0] == deleted):
            return known[1]
        bits = bits_of(deleted, self.doc_count_all)
        self._deleted = (deleted, bits)
        return bits


def _size(found) -> int:
    return len(found.ids) if isinstance(found, TermPostings) else 0


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


def _read_postings(reader, fieldname: str, btext: bytes) -> tuple[array, array]:
    """Every docnum posted for a term (deletions included) and its weight, a block at a time."""
    ids, weights = array("I"), array("f")
    try:
        matcher = reader.postings(fieldname, btext)
    except TermNotFound:
        return ids, weights
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    if hasattr(matcher, "_next_block") and hasattr(matcher, "_read_weights"):
        # Whoosh's own block reader: take each decoded block whole.
        while matcher.is_active():
            matcher.block_min_id()  # decodes the block's ids
            matcher.weight()  # and its weights
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            matcher._next_block()
    else:
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
    return ids, weights


def term_bytes(reader, fieldname: str, text) -> bytes | None:
    if fieldname not in reader.schema:
        return None
    if isinstance(text, bytes):
        return text
    return reader.schema[fieldname].to_bytes(text)


class SetEvaluator:
    """Evaluates a Whoosh query to the bitset of matching docnums of one segment."""

    def __init__(self, segment_searcher):
        self.searcher = segment_searcher
        self.reader = segment_searcher.reader()
        self.sets = segment_sets(self.reader)

    def everything(self) -> int:
        return self.sets.everything

    def term(self, fieldname: str, text) -> int:
        btext = term_bytes(self.reader, fieldname, text)
        if btext is None:
            return 0
        return self.sets.term(self.reader, fieldname, btext)

    def __call__(self, q: wq.Query) -> int:
        if isinstance(q, wq.Term):
            return self.term(q.fieldname, q.text)
        if isinstance(q, wq.Every):
            return self.everything()
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return 0
        if isinstance(q, wq.AndNot):
            found = self(q.a)
            return found & ~self(q.b) if found else 0
        if isinstance(q, wq.Not):
            return self.everything() & ~self(q.query)
        if isinstance(q, wq.And | wq.Require):
            parts = q.subqueries if isinstance(q, wq.And) else (q.a, q.b)
            if not parts:
                return 0
            found = self.everything()
            for sub in parts:
                found &= self(sub)
                if not found:
                    break
            return found
        if isinstance(q, wq.Or | wq.DisjunctionMax):
            found = 0
            for sub in q.subqueries:
                found |= self(sub)
            return found
        if isinstance(q, wq.AndMaybe):
            return self(q.a)
        if isinstance(q, wq.Phrase):
            return self.phrase(q)
        # Anything unusual: ask Whoosh.
        return bits_of(q.docs(self.searcher), self.sets.doc_count_all)

    def phrase(self, q: wq.Phrase) -> int:
        """Documents with the words in order: position checks only where all words occur.

        Checking positions is the slow part (Whoosh decodes them in Python),
        so the result is cached with the segment's term sets: a segment's
        postings never change.
        """
        key = (q.fieldname, ("phrase", q.slop, *q.words))
        found = self.sets.cached(key)
        if found is not None:
            return found
        candidates = self.everything() if q.words else 0
        for word in q.words:
            candidates &= self.term(q.fieldname, word)
            if not candidates:
                break
        found = bits_of(q.docs(self.searcher), self.sets.doc_count_all) if candidates else 0
        return self.sets.remember(key, found)


def matching_sets(searcher, q: wq.Query, restrictions):
    """Per segment: (evaluator, offset, bitset of matches minus deletions)."""
    restrictions = list(restrictions)
    for segment_searcher, offset in searcher.leaf_searchers():
        evaluate = SetEvaluator(segment_searcher)
        docs = evaluate(q)
        for restriction in restrictions:
            if not docs:
                break
            docs &= evaluate(restriction)
        if docs:
            docs &= ~evaluate.sets.deleted(evaluate.reader)
        yield evaluate, offset, docs


def warm(searcher) -> int:
    """Fill every segment's sets that any search reads (communities, facets, deletions)."""
    segments = 0
    for segment_searcher, _offset in searcher.leaf_searchers():
        reader = segment_searcher.reader()
        sets = segment_sets(reader)
        for fieldname in ("community_id", *FACET_FIELDS):
            sets.field_values(reader, fieldname)
        sets.deleted(reader)
        segments += 1
    return segments


def within_communities(evaluate: SetEvaluator, docs: int, allowed_ids: set[str]) -> int:
    """``docs`` without the documents of every community not in ``allowed_ids``."""
    if not docs:
        return 0
    hidden = 0
    for cid, posted in evaluate.sets.field_values(evaluate.reader, "community_id").items():
        if cid not in allowed_ids:
            hidden |= posted
    return docs & ~hidden


def visible_docs(evaluate: SetEvaluator, allowed_ids: set[str]) -> int:
    """The documents of this segment in the communities ``allowed_ids``, deletions removed."""
    found = 0
    for cid, posted in evaluate.sets.field_values(evaluate.reader, "community_id").items():
        if cid in allowed_ids:
            found |= posted
    if found:
        found &= ~evaluate.sets.deleted(evaluate.reader)
    return found


def facet_counts(evaluate: SetEvaluator, docs: int) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for fieldname in FACET_FIELDS:
        values = evaluate.sets.field_values(evaluate.reader, fieldname)
        field_counts: dict[str, int] = {}
        for value, posted in values.items():
            # Posted bitsets include deleted docs but ``docs`` does not, so
            # the count is exact.
            n = (docs & posted).bit_count()
            if n:
                field_counts[value] = n
        counts[fieldname] = field_counts
    return counts


def newest(segments: list, count: int) -> list[int]:
    """Global docnums of the ``count`` newest (largest) documents in ``segments``' bitsets."""
    pool: list[int] = []
    for _evaluate, offset, docs in segments:
        pool.extend(offset + d for d in highest(docs, count))
    return heapq.nlargest(count, pool)
