"""\"Did you mean\" from ``search_words``: close words the viewer could find.

Only words of communities the viewer may see are candidates, and a
candidate is offered only if a document they may see holds it now (the
list keeps a word until the next rebuild even when its norm changed): a
typo one letter from a word used only in a members-only community never
spells that word out to someone outside it. Candidates share the word's
first letter and are at most two edits away (``levenshtein_less_equal``);
the closest wins, then the most frequent, then the one most alike by
trigrams (``pg_trgm``).
"""

from __future__ import annotations

from sqlalchemy import text as sql
from sqlalchemy.engine import Connection

from normhub.search.postgres.parsing import CONFIG
from normhub.search.query import corrected

MAX_DISTANCE = 2
# A word's frequency is counted up to this many documents: enough to rank candidates.
FREQUENCY_CAP = 100

_VISIBLE = "community_id = ANY(CAST(:communities AS int[]))"
_LISTED = sql(f"SELECT EXISTS (SELECT 1 FROM search_words WHERE word = :word AND {_VISIBLE})")  # noqa: S608
_IN_TEXT = sql(
    f"SELECT EXISTS (SELECT 1 FROM search_documents WHERE {_VISIBLE} "  # noqa: S608
    f"AND words @@ plainto_tsquery('{CONFIG}', :word))"
)
_CLOSE = sql(
    f"""
    SELECT w.word, levenshtein_less_equal(w.word, :word, {MAX_DISTANCE}) AS distance,
        similarity(w.word, :word) AS alike
    FROM (SELECT DISTINCT word FROM search_words
          WHERE {_VISIBLE} AND word LIKE :prefix
            AND length(word) BETWEEN :shortest AND :longest) AS w
    WHERE w.word <> :word AND levenshtein_less_equal(w.word, :word, {MAX_DISTANCE}) <= :most
    ORDER BY distance, alike DESC, w.word
    LIMIT 20
    """  # noqa: S608 (constants only; values are bound)
)
_FREQUENCY = sql(
    f"SELECT count(*) FROM (SELECT 1 FROM search_documents WHERE {_VISIBLE} "  # noqa: S608
    f"AND words @@ plainto_tsquery('{CONFIG}', :word) LIMIT {FREQUENCY_CAP}) AS found"
)


class VisibleWords:
    def __init__(self, connection: Connection, communities: list[int]):
        self.connection = connection
        self.communities = communities

    def _ask(self, statement, **params):
        return self.connection.execute(statement, {"communities": self.communities, **params})

    def known(self, word: str) -> bool:
        return bool(
            self._ask(_LISTED, word=word).scalar() or self._ask(_IN_TEXT, word=word).scalar()
        )

    def frequency(self, word: str) -> int:
        return self._ask(_FREQUENCY, word=word).scalar() or 0

    def closest(self, word: str) -> str | None:
        # Most typos are one edit away: a word at distance 1 beats any at distance 2.
        for most in range(1, MAX_DISTANCE + 1):
            rows = self._ask(
                _CLOSE,
                word=word,
                prefix=word[0] + "%",
                shortest=len(word) - most,
                longest=len(word) + most,
                most=most,
            ).all()
            ranked = []
            for candidate, distance, alike in rows:
                found = self.frequency(candidate)
                if found:
                    ranked.append((distance, -found, -alike, candidate))
            if ranked:
                return min(ranked)[3]
        return None


def suggest(connection: Connection, text: str, communities: list[int]) -> str | None:
    words = VisibleWords(connection, communities)
    return corrected(text, words.known, words.closest)
