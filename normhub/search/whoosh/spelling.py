"""\"Did you mean\": close words from the index's spelling field for words it does not know."""

from __future__ import annotations

from whoosh.reading import IndexReader
from whoosh.support.levenshtein import distance

from normhub.search.query import corrected
from normhub.search.whoosh.schema import SCHEMA, TEXT_FIELDS

# Whoosh finds close words with a Levenshtein automaton built for each word
# and segment, which costs milliseconds; the small segments updates leave
# have few words, and simply measuring the distance to each is cheaper.
SCAN_SPELLING_BELOW_DOCS = 2000


def closest_word(searcher, word: str) -> str | None:
    # Most typos are one edit away, and the distance-1 automaton is far cheaper
    # to build than the distance-2 one, so try that first.
    for maxdist in (1, 2):
        best: tuple[int, int, str] | None = None
        for reader, _offset in searcher.reader().leaf_readers():
            if "spell" not in reader.indexed_field_names():
                continue
            for candidate in _terms_within(reader, word, maxdist):
                if candidate == word:
                    continue
                rank = (distance(word, candidate), -searcher.doc_frequency("spell", candidate))
                if best is None or (*rank, candidate) < best:
                    best = (*rank, candidate)
        if best is not None:
            return best[2]
    return None


def _terms_within(reader, word: str, maxdist: int):
    if reader.doc_count_all() < SCAN_SPELLING_BELOW_DOCS:
        return IndexReader.terms_within(reader, "spell", word, maxdist, prefix=1)
    return reader.terms_within("spell", word, maxdist, prefix=1)


def known(searcher, word: str) -> bool:
    if searcher.doc_frequency("spell", word) > 0:
        return True
    stems = [token.text for token in SCHEMA["body"].analyzer(word)]
    return any(
        searcher.doc_frequency(fieldname, stem) > 0 for stem in stems for fieldname in TEXT_FIELDS
    )


def suggest(searcher, text: str) -> str | None:
    """The query with unknown words replaced by close words from the index, if any."""
    return corrected(
        text, lambda word: known(searcher, word), lambda word: closest_word(searcher, word)
    )
