"""Ranking the candidates of a search as the Whoosh backend does: BM25F over the fields.

Both backends take the same candidates (``searching``: up to 200, tier by
tier). Whoosh then ranks them by BM25F: per word and field, the word's
frequency there, saturated (``K1``) and weighed against the field's length
(``B``), times the rarity of the word in that field (idf) and the field's
boost. ``ts_rank_cd`` ranks by something else (cover density), which put
only about half of Whoosh's top 10 in PostgreSQL's.

So the candidates are ranked here with the same formula, from what each
candidate's row holds: the positions of the query's lexemes by weight (A
title, B tags and summary, C assumptions, D essay or comment text) read from
its ``tsvector``, its tags, and its fields' lengths in characters (Whoosh
counts words; a ratio to the average is what counts, and characters keep the
ratio). Averages and document frequencies are the table's, from its
statistics: the average lengths from a sample, the frequencies from
``pg_stats`` (the lexemes of every field, and the ``t:``/``s:`` tier lexemes
that stand for the title and for title, tags and summary). Both are read at
most every ``STATISTICS_SECONDS`` per process.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

from sqlalchemy import text as sql
from sqlalchemy.engine import Connection

from normhub.search.postgres import parsing
from normhub.search.query import DEFAULT_FIELDS

K1, B = 1.2, 0.75  # Whoosh's BM25F defaults
TITLE_FIELD_BOOST = 2.0  # the Whoosh schema's title field_boost: a title word counts twice
STATISTICS_SECONDS = 600
AVERAGE_SAMPLE_ROWS = 4000
_LEXEME = re.compile(r"'((?:[^'\\]|''|\\.)*)'(?::([A-D]+))?")
# The weights of the text fields in ``search_documents.words`` (see ``store``).
_WEIGHTS = {"title": "A", "summary": "B", "assumptions": "C", "body": "D"}


@dataclass
class Word:
    lexemes: list[str]
    raw: str  # the word as typed, lower case: the tag field is matched unstemmed
    title_only: bool
    # A phrase's lexemes' distances from its first: it scores only in fields holding it.
    offsets: list[int] | None = None


@dataclass
class Statistics:
    documents: float = 0.0
    averages: dict[str, float] = field(default_factory=dict)
    frequencies: dict[str, float] = field(default_factory=dict)
    rarest: float = 0.0  # below the least frequent lexeme the statistics list
    read_at: float = -math.inf


_statistics = Statistics()


def words_of(tree) -> list[Word]:
    """The words ranked by: those of every text the query wants (not those it excludes)."""
    found = []
    for text in parsing._positive_texts(tree):
        if not text.tsquery:
            continue
        if text.phrase:
            lexemes, offsets = _phrase(text.tsquery)
            found.append(Word(lexemes, "", bool(text.weights), offsets))
            continue
        lexemes = [_unquoted(match.group(1)) for match in _LEXEME.finditer(text.tsquery)]
        raw = text.words.lower() if len(lexemes) == 1 else ""
        found.extend(Word([lexeme], raw, bool(text.weights)) for lexeme in lexemes)
    return found


_PHRASE_PARTS = re.compile(r"'((?:[^'\\]|''|\\.)*)'|<(-|\d+)>")


def _phrase(tsquery: str) -> tuple[list[str], list[int]]:
    """The lexemes of a phrase's tsquery ('quiet' <-> 'hour') and their distances."""
    lexemes, offsets, at = [], [], 0
    for match in _PHRASE_PARTS.finditer(tsquery):
        if match.group(1) is not None:
            lexemes.append(_unquoted(match.group(1)))
            offsets.append(at)
        else:
            at += 1 if match.group(2) == "-" else int(match.group(2))
    return lexemes, offsets


def tag_filters(tree) -> list[str]:
    """The tags a query asks for with ``tag:``: Whoosh scores them too (fewer tags, higher)."""
    if isinstance(tree, parsing.Value):
        return [tree.lexeme[4:]] if tree.lexeme.startswith("tag:") else []
    if isinstance(tree, parsing.And | parsing.Or):
        return [tag for part in tree.parts for tag in tag_filters(part)]
    return []


def _unquoted(lexeme: str) -> str:
    return re.sub(r"\\(.)", r"\1", lexeme.replace("''", "'"))


_AVERAGES = """
    SELECT count(*), avg(length(coalesce(title, ''))), avg(length(coalesce(summary, ''))),
        avg(length(coalesce(assumptions, ''))), avg(length(coalesce(body, ''))),
        avg(CASE WHEN tags = '' THEN 0 ELSE length(tags) - length(replace(tags, ',', '')) + 1 END)
    FROM search_documents TABLESAMPLE SYSTEM ({percent}) REPEATABLE (1)
"""
_FREQUENCIES = sql(
    "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
    "WHERE schemaname = current_schema() AND tablename = 'search_documents' "
    "AND attname = 'words'"
)
_TABLE_ROWS = sql("SELECT reltuples FROM pg_class WHERE oid = 'search_documents'::regclass")


def statistics(connection: Connection) -> Statistics:
    global _statistics
    if time.monotonic() - _statistics.read_at < STATISTICS_SECONDS:
        return _statistics
    documents = max(0.0, float(connection.scalar(_TABLE_ROWS) or 0))
    percent = 100.0 if documents <= AVERAGE_SAMPLE_ROWS else 100.0 * AVERAGE_SAMPLE_ROWS / documents
    row = connection.execute(sql(_AVERAGES.format(percent=f"{percent:.6f}"))).one()
    names = ("title", "summary", "assumptions", "body", "tag")
    averages = {name: float(value or 0) or 1.0 for name, value in zip(names, row[1:], strict=True)}
    frequencies: dict[str, float] = {}
    rarest = 0.0
    listed = connection.execute(_FREQUENCIES).first()
    if listed is not None and listed[0]:
        elements, freqs = listed
        frequencies = dict(zip(elements, freqs[: len(elements)], strict=True))
        # After the elements' frequencies come the least and the greatest of them.
        rarest = freqs[len(elements)] / 2 if len(freqs) > len(elements) else 0.0
    _statistics = Statistics(
        max(documents, float(row[0])), averages, frequencies, rarest, time.monotonic()
    )
    return _statistics


def _idf(stats: Statistics, lexeme: str) -> float:
    """Whoosh's idf: log(N / (df + 1)) + 1, with df from the table's statistics."""
    documents = max(stats.documents, 1.0)
    frequency = stats.frequencies.get(lexeme, stats.rarest)
    return math.log(documents / (frequency * documents + 1)) + 1


def _bm25(idf: float, tf: float, length: float, average: float) -> float:
    return idf * (tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * length / average))


_CANDIDATES = sql(
    "SELECT d.id, d.seq, d.tags, length(coalesce(d.title, '')), "
    "length(coalesce(d.summary, '')), length(coalesce(d.assumptions, '')), "
    "length(coalesce(d.body, '')), "
    "(SELECT array_agg(u.lexeme || ' ' || array_to_string(u.weights, '') || ' ' "
    "|| array_to_string(u.positions, ',')) FROM unnest(d.words) u "
    "WHERE u.lexeme = ANY(CAST(:lexemes AS text[]))) "
    "FROM search_documents d WHERE d.id = ANY(CAST(:ids AS text[]))"
)


def ranked(connection: Connection, ids: list[str], tree, limit: int) -> list[str]:
    """``ids`` best first by Whoosh's BM25F; equal scores newest first. The best ``limit``."""
    if not ids:
        return []
    words = words_of(tree)
    tags = tag_filters(tree)
    stats = statistics(connection)
    lexemes = sorted({lexeme for word in words for lexeme in word.lexemes})
    rows = connection.execute(_CANDIDATES, {"ids": ids, "lexemes": lexemes}).all()
    scored = []
    for doc_id, seq, doc_tags, *lengths, found in rows:
        positions = {}
        for item in found or ():
            lexeme, weights, places = item.rsplit(" ", 2)
            positions[lexeme] = list(zip(weights, map(int, places.split(",")), strict=True))
        score = _score(stats, words, tags, positions, doc_tags or "", lengths)
        scored.append((-score, -seq, doc_id))
    scored.sort()
    return [doc_id for _, _, doc_id in scored[:limit]]


def _score(stats, words, tags, positions, doc_tags: str, lengths) -> float:
    lengths = dict(zip(("title", "summary", "assumptions", "body"), lengths, strict=True))
    own_tags = [
        t for t in parsing.TAG_TOKEN.findall(doc_tags.lower()) if t not in parsing.TAG_STOP_WORDS
    ]
    averages = stats.averages
    score = 0.0

    def field_score(name: str, lexeme: str, tf: float, idf_of: str) -> float:
        idf = _idf(stats, idf_of)
        return DEFAULT_FIELDS[name] * _bm25(idf, tf, lengths[name], averages[name])

    for word in words:
        for name, weight in _WEIGHTS.items():
            if word.title_only and name != "title":
                continue
            if word.offsets is not None and not _holds_phrase(positions, word, weight):
                continue
            for lexeme in word.lexemes:
                tf = sum(1 for found, _ in positions.get(lexeme, ()) if found == weight)
                in_tags = own_tags.count(word.raw) if word.raw and name == "summary" else 0
                tf -= in_tags  # a tag's words are weighted with the summary's
                if in_tags:
                    idf = _idf(stats, "tag:" + word.raw)
                    score += DEFAULT_FIELDS["tag"] * _bm25(
                        idf, in_tags, len(own_tags), averages["tag"]
                    )
                if tf <= 0:
                    continue
                if name == "title":
                    score += field_score(
                        name, lexeme, tf * TITLE_FIELD_BOOST, parsing.TITLE_TIER + lexeme
                    )
                elif name == "summary":
                    score += field_score(name, lexeme, tf, parsing.HEAD_TIER + lexeme)
                else:
                    score += field_score(name, lexeme, tf, lexeme)
    for tag in tags:
        if tag in own_tags:
            idf = _idf(stats, "tag:" + tag)
            score += _bm25(idf, own_tags.count(tag), len(own_tags), averages["tag"])
    return score


def _holds_phrase(positions: dict, word: Word, weight: str) -> bool:
    """True when the phrase's lexemes stand at their distances in the field of ``weight``."""
    places = [
        {place for found, place in positions.get(lexeme, ()) if found == weight}
        for lexeme in word.lexemes
    ]
    if not places or not places[0]:
        return False
    return any(
        all(start + offset in found for offset, found in zip(word.offsets, places, strict=True))
        for start in places[0]
    )
