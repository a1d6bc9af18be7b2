"""Ranking the candidates of a search as the Whoosh backend does: BM25F over the fields.

Both backends take the same candidates (``searching``: up to 200, tier by
tier). Whoosh then ranks them by BM25F: per word and field, the word's
frequency there, saturated (``K1``) and weighed against the field's length
(``B``), times the rarity of the word in that field (idf) and the field's
boost. ``ts_rank_cd`` ranks by something else (cover density), which put
only about half of Whoosh's top 10 in PostgreSQL's.

So the candidates are ranked here with the same formula, from what each
candidate's row holds: how often each of the query's lexemes occurs in each
field (A title, B tags and summary, C assumptions, D essay or comment text)
and whether a phrase does, read from its ``tsvector`` (see ``_TF_BY_RANK``),
its tags, and its fields' lengths in characters (Whoosh counts words; a
ratio to the average is what counts, and characters keep the ratio).
Averages and document frequencies are the table's: the average lengths from
a sample, the frequencies from ``pg_stats`` (the lexemes of every field, and
the ``t:``/``s:`` tier lexemes that stand for the title and for title, tags
and summary). Both are read at most every ``STATISTICS_SECONDS`` by each backend.
"""

from __future__ import annotations

import bisect
import itertools
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
    # A phrase's tsquery: a phrase scores only in the fields that hold it, tested each.
    phrase: str = ""


@dataclass
class Statistics:
    documents: float = 0.0
    averages: dict[str, float] = field(default_factory=dict)
    frequencies: dict[str, float] = field(default_factory=dict)
    rarest: float = 0.0  # below the least frequent lexeme the statistics list
    read_at: float = -math.inf


class StatisticsCache:
    """The table's statistics for one backend, read again after ``STATISTICS_SECONDS``."""

    def __init__(self):
        self.current = Statistics()

    def read(self, connection: Connection) -> Statistics:
        if time.monotonic() - self.current.read_at >= STATISTICS_SECONDS:
            self.current = read_statistics(connection)
        return self.current


def words_of(tree) -> list[Word]:
    """The words ranked by: those of every text the query wants (not those it excludes)."""
    found = []
    for text in parsing._positive_texts(tree):
        if not text.tsquery:
            continue
        if text.phrase:
            lexemes = [_unquoted(match.group(1)) for match in _LEXEME.finditer(text.tsquery)]
            found.append(Word(lexemes, "", bool(text.weights), text.tsquery))
            continue
        lexemes = [_unquoted(match.group(1)) for match in _LEXEME.finditer(text.tsquery)]
        raw = text.words.lower() if len(lexemes) == 1 else ""
        found.extend(Word([lexeme], raw, bool(text.weights)) for lexeme in lexemes)
    return found


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


def read_statistics(connection: Connection) -> Statistics:
    """The table's size, average field lengths (from a sample) and lexeme frequencies."""
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
    return Statistics(
        max(documents, float(row[0])), averages, frequencies, rarest, time.monotonic()
    )


def _idf(stats: Statistics, lexeme: str) -> float:
    """Whoosh's idf: log(N / (df + 1)) + 1, with df from the table's statistics."""
    documents = max(stats.documents, 1.0)
    frequency = stats.frequencies.get(lexeme, stats.rarest)
    return math.log(documents / (frequency * documents + 1)) + 1


def _bm25(idf: float, tf: float, length: float, average: float) -> float:
    return idf * (tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * length / average))


# How often a lexeme occurs in each field of a candidate, read without unnesting its
# tsvector (which costs a row per lexeme, 300 for a norm: 15 ms for 200 candidates).
# ``ts_rank`` of one lexeme adds w_j / j^2 over its positions in order (j = 1, 2, …),
# the largest weight counted as if first, and divides by pi^2 / 6. The fields come in
# the tsvector in the order A, B, C, D (``store`` joins them so, each after the last
# position of the one before), so with weight 1 on A, or on A and B, and so on, and 0
# on the rest, the weighted positions are the first ones and the rank is
# sum(1/j^2, j = 1..n) / (pi^2 / 6) for n the count in those fields: a different value
# for each n, read back through ``_TF_BY_RANK``. A field's count is the difference of
# two such counts. Past ``MAX_TF`` the ranks are too close to tell apart, and BM25 has
# saturated long before.
MAX_TF = 200
_TF_BY_RANK = list(
    itertools.accumulate(1 / (n * n) / (math.pi**2 / 6) for n in range(1, MAX_TF + 1))
)
# ts_rank's weights are given D, C, B, A: A alone, then A and B, A to C, all four.
_CUMULATIVE_WEIGHTS = ("{0,0,0,1}", "{0,0,1,1}", "{0,1,1,1}", "{1,1,1,1}")


def _tf(rank: float) -> int:
    if rank < _TF_BY_RANK[0] / 2:
        return 0
    at = bisect.bisect_left(_TF_BY_RANK, rank)
    if at >= MAX_TF:
        return MAX_TF
    if at > 0 and rank - _TF_BY_RANK[at - 1] < _TF_BY_RANK[at] - rank:
        at -= 1
    return at + 1


def _field_counts(ranks: list[float]) -> list[int]:
    """Counts in A, B, C and D from the ranks over A, A-B, A-C and A-D."""
    cumulative = [_tf(rank) for rank in ranks]
    return [cumulative[0], *(b - a for a, b in itertools.pairwise(cumulative))]


# A function given a stored (TOASTed) tsvector reads it afresh on each call: a norm's,
# 3.5 kB, eight times for a two-word query. Joined to an empty one it is read once,
# and the calls share the copy in memory.
_READ_ONCE = "CROSS JOIN LATERAL (SELECT d.words || ''::tsvector AS words OFFSET 0) AS f"


def _candidates_statement(lexemes: list[str], phrases: list[Word]):
    ranks = [
        f"ts_rank('{weights}', f.words, CAST(:lexeme{i} AS tsquery), 0)"
        for i in range(len(lexemes))
        for weights in _CUMULATIVE_WEIGHTS
    ]
    held = [
        f"ts_filter(f.words, '{{{w.lower()}}}') @@ CAST(:phrase{i} AS tsquery)"
        for i in range(len(phrases))
        for w in "ABCD"
    ]
    return sql(
        "SELECT d.id, d.seq, d.tags, length(coalesce(d.title, '')), "  # noqa: S608 (no values)
        "length(coalesce(d.summary, '')), length(coalesce(d.assumptions, '')), "
        "length(coalesce(d.body, '')), "
        f"CAST(ARRAY[{', '.join(ranks) or 'NULL'}] AS real[]), "
        f"CAST(ARRAY[{', '.join(held) or 'NULL'}] AS boolean[]) "
        f"FROM search_documents d {_READ_ONCE} WHERE d.id = ANY(CAST(:ids AS text[]))"
    )


def ranked(
    connection: Connection,
    ids: list[str],
    tree,
    limit: int,
    statistics: StatisticsCache | None = None,
) -> list[str]:
    """``ids`` best first by Whoosh's BM25F; equal scores newest first. The best ``limit``."""
    if not ids:
        return []
    words = words_of(tree)
    tags = tag_filters(tree)
    stats = (statistics or StatisticsCache()).read(connection)
    lexemes = sorted({lexeme for word in words for lexeme in word.lexemes})
    phrases = [word for word in words if word.phrase]
    params: dict = {"ids": ids}
    params.update({f"lexeme{i}": parsing.quote(lexeme) for i, lexeme in enumerate(lexemes)})
    params.update({f"phrase{i}": word.phrase for i, word in enumerate(phrases)})
    rows = connection.execute(_candidates_statement(lexemes, phrases), params).all()
    scored = []
    for doc_id, seq, doc_tags, *lengths, ranks, held in rows:
        frequencies = {}
        for i, lexeme in enumerate(lexemes):
            counts = _field_counts(ranks[4 * i : 4 * i + 4])
            frequencies.update(((lexeme, weight), counts[j]) for j, weight in enumerate("ABCD"))
        holds = {
            (id(word), weight): bool(held[4 * i + j])
            for i, word in enumerate(phrases)
            for j, weight in enumerate("ABCD")
        }
        score = _score(stats, words, tags, (frequencies, holds), doc_tags or "", lengths)
        scored.append((-score, -seq, doc_id))
    scored.sort()
    return [doc_id for _, _, doc_id in scored[:limit]]


# Whose frequency stands for a word's document frequency in each field.
_IDF_TERM = {
    "title": parsing.TITLE_TIER,
    "summary": parsing.HEAD_TIER,
    "assumptions": "",
    "body": "",
}


@dataclass
class _Candidate:
    frequencies: dict  # (lexeme, weight) -> how often
    holds: dict  # (id of a phrase's Word, weight) -> whether that field holds it
    lengths: dict  # field -> characters
    tags: list[str]


def _score(stats, words, tags, found, doc_tags: str, lengths) -> float:
    own_tags = [
        t for t in parsing.TAG_TOKEN.findall(doc_tags.lower()) if t not in parsing.TAG_STOP_WORDS
    ]
    names = ("title", "summary", "assumptions", "body")
    candidate = _Candidate(*found, dict(zip(names, lengths, strict=True)), own_tags)
    score = sum(_word_score(stats, word, candidate) for word in words)
    return score + sum(_tag_score(stats, tag, own_tags) for tag in tags if tag in own_tags)


def _tag_score(stats, tag: str, own_tags: list[str]) -> float:
    idf = _idf(stats, "tag:" + tag)
    return _bm25(idf, own_tags.count(tag), len(own_tags), stats.averages["tag"])


def _word_score(stats, word: Word, candidate: _Candidate) -> float:
    """A word's (or phrase's) BM25F: the sum over the fields holding it."""
    score = 0.0
    in_tags = candidate.tags.count(word.raw) if word.raw and not word.title_only else 0
    if in_tags:
        score += DEFAULT_FIELDS["tag"] * _tag_score(stats, word.raw, candidate.tags)
    for name, weight in _WEIGHTS.items():
        if word.title_only and name != "title":
            continue
        if word.phrase and not candidate.holds[(id(word), weight)]:
            continue
        for lexeme in word.lexemes:
            tf = candidate.frequencies[(lexeme, weight)]
            if name == "summary":
                tf -= in_tags  # a tag's words are weighted with the summary's
            elif name == "title":
                tf *= TITLE_FIELD_BOOST
            if tf > 0:
                idf = _idf(stats, _IDF_TERM[name] + lexeme)
                length, average = candidate.lengths[name], stats.averages[name]
                score += DEFAULT_FIELDS[name] * _bm25(idf, tf, length, average)
    return score
