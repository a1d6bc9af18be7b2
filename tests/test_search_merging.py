"""Updates never merge; merges run aside, queue concurrent writes, and searchers stay exact."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from normhub.search.services import search
from normhub.search.whoosh import queue, updates, writer
from normhub.search.whoosh.schema import open_index
from normhub.search.whoosh.searchers import searcher_for
from normhub.search.whoosh.writer import (
    SEGMENTS_PER_TIER,
    merge_marker,
    segments_to_merge,
    write_documents,
)
from tests.search_helpers import indexed

pytestmark = pytest.mark.whoosh


def _segment_sizes(app) -> list[int]:
    ix = open_index(Path(app.config["SEARCH_INDEX_DIR"]), create=False)
    return [segment.doc_count_all() for segment in ix._segments()]


def _doc(n: int, word: str = "lamp") -> dict:
    return {"id": f"norm:{n}", "kind": "norm", "norm_id": str(n), "title": f"{word} {n}"}


class _Segment:
    def __init__(self, docs: int):
        self.docs = docs

    def doc_count_all(self) -> int:
        return self.docs


def test_merge_policy_folds_full_tiers_and_leaves_big_segments_alone():
    big, tiny, small = _Segment(220_000), [_Segment(1) for _ in range(10)], _Segment(40)
    assert segments_to_merge([big, *tiny[:9], small], per_tier=10) == []
    chosen = segments_to_merge([big, *tiny, small], per_tier=10)
    # The ten tiny ones fill their tier; merged, they make one more of the
    # next tier, which then holds two: not enough to merge it too.
    assert set(chosen) == set(tiny)
    full_next = [_Segment(50) for _ in range(9)]
    assert set(segments_to_merge([big, *tiny, *full_next], per_tier=10)) == {*tiny, *full_next}
    assert big not in segments_to_merge([big, _Segment(20_000), *tiny], per_tier=2)


def test_updates_never_merge(app, factory):
    community = factory.community()
    for n in range(SEGMENTS_PER_TIER + 2):
        factory.norm(community, title=f"Norm {n}")
    sizes = _segment_sizes(app)
    assert len(sizes) > SEGMENTS_PER_TIER
    assert max(sizes) < 10


def test_a_full_tier_is_merged_in_the_background(app, factory, session):
    app.config["SEARCH_BACKGROUND_MERGE"] = True
    community = factory.community()
    norms = [factory.norm(community, title=f"Lamp rule {n}") for n in range(SEGMENTS_PER_TIER + 3)]
    updates.wait_for_background_merge(timeout=60)
    assert len(_segment_sizes(app)) < SEGMENTS_PER_TIER
    assert {f"norm:{norm.id}" for norm in norms} <= set(indexed(app))
    assert search(session, None, "lamp").total == len(norms)
    assert not merge_marker(Path(app.config["SEARCH_INDEX_DIR"])).exists()


def test_writes_during_a_merge_are_queued_then_applied(app, factory, session, monkeypatch):
    community = factory.community()
    for n in range(3):
        factory.norm(community, title=f"Before {n}")
    directory = Path(app.config["SEARCH_INDEX_DIR"])
    real_merge = updates.merge_segments
    during = {}

    def merge_with_a_concurrent_write(directory_, per_tier):
        # Another request commits while the merge holds the index.
        norm = factory.norm(community, title="Written during the merge")
        during["id"] = norm.id
        during["queued"] = norm.id in queue.peek(directory).norms
        during["indexed"] = f"norm:{norm.id}" in indexed(app)
        return real_merge(directory_, per_tier)

    monkeypatch.setattr(updates, "merge_segments", merge_with_a_concurrent_write)
    result = app.test_cli_runner().invoke(args=["search", "merge"])
    assert result.exit_code == 0, result.output
    assert during["queued"] and not during["indexed"]
    assert f"norm:{during['id']}" in indexed(app)
    assert not queue.peek(directory)
    # The three norms merged into one segment; the queued one was written after.
    assert _segment_sizes(app) == [3, 1]


def test_a_merge_marker_left_by_a_dead_process_is_ignored(app, factory):
    directory = Path(app.config["SEARCH_INDEX_DIR"])
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    merge_marker(directory).parent.mkdir(parents=True, exist_ok=True)
    merge_marker(directory).write_text(finished.stdout.strip())
    community = factory.community()
    norm = factory.norm(community, title="Not held up")
    assert f"norm:{norm.id}" in indexed(app)
    assert not queue.peek(directory)
    merge_marker(directory).write_text(str(os.getpid()))  # a live merge: writes queue
    later = factory.norm(community, title="Held up")
    assert later.id in queue.peek(directory).norms
    merge_marker(directory).unlink()


def test_a_reused_searcher_sees_replacements_and_merges_exactly(tmp_path):
    directory = tmp_path / "index"
    write_documents(directory, [_doc(n) for n in range(5)], [])
    searcher = searcher_for(directory)
    assert searcher.doc_count() == 5
    # Replacing a document deletes its copy in the existing segment.
    write_documents(directory, [_doc(2, word="teapot")], [])
    searcher = searcher_for(directory)
    assert searcher.doc_count() == 5
    assert {
        searcher.stored_fields(d)["title"]
        for d in range(searcher.doc_count_all())
        if not searcher.reader().is_deleted(d)
    } == {"lamp 0", "lamp 1", "teapot 2", "lamp 3", "lamp 4"}
    assert len(list(searcher.docs_for_query(_term("lamp")))) == 4
    # A merge replaces both segments by one: nothing may be found twice.
    assert writer.merge_segments(directory, per_tier=2) == 2
    searcher = searcher_for(directory)
    assert searcher.doc_count_all() == 5
    assert len(list(searcher.docs_for_query(_term("lamp")))) == 4
    assert len(list(searcher.docs_for_query(_term("teapot")))) == 1


def _term(word: str):
    from whoosh.query import Term

    return Term("title", word)


def test_optimize_folds_everything_into_one_segment(app, factory, session):
    community = factory.community()
    norms = [factory.norm(community, title=f"Lamp rule {n}") for n in range(3)]
    assert len(_segment_sizes(app)) > 1
    result = app.test_cli_runner().invoke(args=["search", "optimize"])
    assert result.exit_code == 0, result.output
    assert _segment_sizes(app) == [3]
    assert search(session, None, "lamp").total == len(norms)
    assert not merge_marker(Path(app.config["SEARCH_INDEX_DIR"])).exists()
