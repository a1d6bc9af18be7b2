"""\"Did you mean\": close words from the index's spelling field for words it does not know.

Only words the viewer could find count. A word is known, and a close word is
offered, only if it occurs in a document of a community the viewer may see:
otherwise a typo one letter from a word used only in a members-only community
would spell that word out to someone outside it. The viewer's documents are a
bitset per segment (``matching.visible_docs``) and a word's documents its
cached posting bitset, so each check is one big-int ``&`` per segment, never
a walk over documents.
"""

from __future__ import annotations

from whoosh.reading import IndexReader
from whoosh.support.levenshtein import distance

from normhub.search.query import corrected
from normhub.search.whoosh import matching
from normhub.search.whoosh.schema import SCHEMA, TEXT_FIELDS

# Whoosh finds close words with a Levenshtein automaton built for each word
# and segment, which costs milliseconds; the small segments updates leave
# have few words, and simply measuring the distance to each is cheaper.
SCAN_SPELLING_BELOW_DOCS = 2000


class VisibleWords:
    """The index's words as one viewer sees them: only those in documents they may see."""

    def __init__(self, searcher, allowed_ids: set[str]):
        self.searcher = searcher
        # (segment evaluator, bitset of the viewer's live documents in it)
        self.segments = []
        if allowed_ids:
            for segment_searcher, _offset in searcher.leaf_searchers():
                evaluate = matching.SetEvaluator(segment_searcher)
                visible = matching.visible_docs(evaluate, allowed_ids)
                if visible:
                    self.segments.append((evaluate, visible))

    def frequency(self, fieldname: str, text: str) -> int:
        """How many documents the viewer may see hold ``text`` in ``fieldname``."""
        # The index-wide count is a cheap lookup: most words fail it at once.
        if not self.segments or self.searcher.doc_frequency(fieldname, text) == 0:
            return 0
        return sum(
            (evaluate.term(fieldname, text) & visible).bit_count()
            for evaluate, visible in self.segments
        )

    def readers(self):
        """The segments holding some document the viewer may see."""
        return [evaluate.reader for evaluate, _visible in self.segments]


def closest_word(words: VisibleWords, word: str) -> str | None:
    # Most typos are one edit away, and the distance-1 automaton is far cheaper
    # to build than the distance-2 one, so try that first.
    for maxdist in (1, 2):
        candidates: set[str] = set()
        for reader in words.readers():
            if "spell" in reader.indexed_field_names():
                candidates.update(_terms_within(reader, word, maxdist))
        candidates.discard(word)
        ranked = []
        for candidate in candidates:
            found = words.frequency("spell", candidate)
            if found:
                ranked.append((distance(word, candidate), -found, candidate))
        if ranked:
            return min(ranked)[2]
    return None


def _terms_within(reader, word: str, maxdist: int):
    if reader.doc_count_all() < SCAN_SPELLING_BELOW_DOCS:
        return IndexReader.terms_within(reader, "spell", word, maxdist, prefix=1)
    return reader.terms_within("spell", word, maxdist, prefix=1)


def known(words: VisibleWords, word: str) -> bool:
    if words.frequency("spell", word) > 0:
        return True
    stems = [token.text for token in SCHEMA["body"].analyzer(word)]
    return any(words.frequency(fieldname, stem) > 0 for stem in stems for fieldname in TEXT_FIELDS)


def suggest(searcher, text: str, allowed_ids: set[str]) -> str | None:
    """The query with unknown words replaced by close words, if any.

    Known and close mean: in a document of a community in ``allowed_ids``.
    """
    words = VisibleWords(searcher, allowed_ids)
    if not words.segments:
        return None
    return corrected(text, lambda word: known(words, word), lambda word: closest_word(words, word))
