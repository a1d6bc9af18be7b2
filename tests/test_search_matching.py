"""Bitset matching and scoring agree with Whoosh's own matchers, across segments and deletions."""

from __future__ import annotations

import random

import pytest

from normhub.search.query import clean_query
from normhub.search.whoosh import matching, scoring
from normhub.search.whoosh.querying import parse_query
from normhub.search.whoosh.schema import open_index
from normhub.search.whoosh.writer import write_documents

pytestmark = pytest.mark.whoosh

WORDS = [
    "kitchen",
    "garden",
    "meeting",
    "minutes",
    "rota",
    "bins",
    "quiet",
    "hours",
    "noise",
    "shared",
    "water",
    "dogs",
]
QUERIES = [
    "kitchen",
    "kitchen garden",
    "kitchen OR garden",
    "kitchen AND NOT dogs",
    "meeting -minutes",
    "(garden OR water) rota",
    '"quiet hours"',
    '"shared kitchen" noise',
    "title:meeting",
    "tag:safety kitchen",
    "status:open OR tag:budget",
    "author:ada",
    "type:comment water",
]


def _document(rng: random.Random, n: int) -> dict:
    def text(low, high):
        words = rng.choices(WORDS, k=rng.randint(low, high))
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words) + 1), "quiet hours")
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words) + 1), "shared kitchen")
        return " ".join(words)

    kind = "norm" if n % 3 else "comment"
    document = {
        "id": f"{kind}:{n}",
        "kind": kind,
        "norm_id": str(n),
        "body": text(5, 40),
        "community_id": str(n % 4),
        "author": rng.choice(["Ada Lovelace", "Grace Hopper"]),
    }
    if kind == "norm":
        document |= {
            "title": text(2, 6),
            "summary": text(4, 12),
            "assumptions": text(0, 10),
            "tag": ",".join(rng.sample(["safety", "budget", "kitchen"], rng.randint(1, 2))),
            "status": rng.choice(["open", "draft", "in_force"]),
        }
    return document


def _parse(text: str):
    cleaned, _ = clean_query(text)
    parsed, _ = parse_query(cleaned, {})
    return parsed


@pytest.fixture
def searcher(tmp_path):
    """An index of three segments, some documents replaced (deleted in older segments)."""
    rng = random.Random(4)
    directory = tmp_path / "index"
    write_documents(directory, [_document(rng, n) for n in range(300)], [])
    write_documents(directory, [_document(rng, n) for n in range(300, 400)], [])
    replaced = [_document(rng, n) for n in range(0, 400, 7)]
    write_documents(directory, replaced, [("id", "comment:3")])
    with open_index(directory, create=False).searcher() as searcher:
        assert len(searcher.leaf_searchers()) == 3
        yield searcher


def test_bitset_helpers_round_trip():
    rng = random.Random(1)
    docnums = sorted(rng.sample(range(5000), 700))
    bits = matching.bits_of(docnums, 5000)
    assert bits.bit_count() == 700
    assert matching.docnums_of(bits) == docnums
    assert matching.highest(bits, 5) == docnums[::-1][:5]
    assert matching.highest(bits, 10_000) == docnums[::-1]
    assert matching.bits_of([], 0) == 0
    assert matching.docnums_of(0) == [] and matching.highest(0, 3) == []


@pytest.mark.parametrize("text", QUERIES)
def test_bitsets_match_what_whoosh_finds(searcher, text):
    parsed = _parse(text)
    expected = set(searcher.docs_for_query(parsed))
    found = set()
    for _evaluate, offset, docs in matching.matching_sets(searcher, parsed, []):
        found |= {offset + docnum for docnum in matching.docnums_of(docs)}
    assert found == expected
    assert found, "each query should find something in this corpus"


@pytest.mark.parametrize("text", QUERIES)
def test_scores_are_whooshs_bm25f_scores(searcher, text):
    parsed = _parse(text)
    compared = 0
    for evaluate, _offset, docs in matching.matching_sets(searcher, parsed, []):
        docnums = matching.docnums_of(docs)
        if not docnums:
            continue
        fast = scoring.Scorer(searcher, evaluate, docnums, docs).scores(parsed)
        assert fast is not None, f"{parsed!r} fell back to Whoosh's matchers"
        slow = scoring._whoosh_scores(searcher, evaluate, parsed, docnums)
        assert fast == pytest.approx(slow, rel=1e-9)
        assert any(slow)
        compared += len(docnums)
    assert compared


def test_ranked_page_is_whooshs_top_hits_when_all_matches_are_scored(searcher, monkeypatch):
    monkeypatch.setattr(scoring, "CANDIDATES", 1000)
    parsed = _parse("kitchen garden")
    segments = list(matching.matching_sets(searcher, parsed, []))
    ranked = scoring.rank(searcher, parsed, segments, 10)
    everything = searcher.search(parsed, limit=None)
    whoosh_scores = {hit.docnum: hit.score for hit in everything}
    assert len(whoosh_scores) > 10
    # Equal scores may be ordered differently (here newest first), so compare scores.
    assert [whoosh_scores[n] for n in ranked] == pytest.approx([h.score for h in everything[:10]])


def test_facet_counts_leave_out_deleted_documents(searcher):
    parsed = _parse("kitchen")
    counted = {}
    for evaluate, _offset, docs in matching.matching_sets(searcher, parsed, []):
        for value, n in matching.facet_counts(evaluate, docs)["kind"].items():
            counted[value] = counted.get(value, 0) + n
    expected = {}
    for docnum in searcher.docs_for_query(parsed):
        kind = searcher.stored_fields(docnum)["kind"]
        expected[kind] = expected.get(kind, 0) + 1
    assert counted == expected
