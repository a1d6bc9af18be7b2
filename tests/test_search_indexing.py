"""The search index follows the database: after commits, never on rollback, and survives failure."""

from __future__ import annotations

import multiprocessing
from datetime import datetime
from pathlib import Path

import pytest

from normhub.discussion.services import edit_comment, hide_comment, unhide_comment
from normhub.norms.models import NormVersion
from normhub.norms.services import change_status, revise_norm
from normhub.search.backend import backend_for
from normhub.search.services import search
from normhub.search.whoosh import queue, updates, writer
from normhub.search.whoosh.schema import open_index
from normhub.search.whoosh.writer import write_documents
from tests.search_helpers import add_comment, draft_like, indexed


def test_new_norm_is_indexed_after_commit(app, factory):
    community = factory.community()
    norm = factory.norm(
        community,
        title="Label every chart axis",
        body="Readers **misjudge** unlabeled axes.",
        tags=["Charts", "data-viz"],
    )
    doc = indexed(app)[f"norm:{norm.id}"]
    assert doc["title"] == "Label every chart axis"
    assert doc["body"] == "Readers misjudge unlabeled axes."  # Markdown reduced to text
    assert doc["tag"] == "charts,data-viz"
    assert doc["status"] == "open"
    assert doc["community"] == community.slug
    assert doc["community_id"] == str(community.id)
    assert doc["author"] == norm.author.display_name
    assert "Most readers cannot check" in doc["assumptions"]
    assert isinstance(doc["created"], datetime)


def test_flushed_but_uncommitted_changes_are_not_indexed(app, factory, session):
    community = factory.community()
    author = factory.member(community)
    from normhub.norms.services import create_norm

    norm = create_norm(session, community, author, factory.draft(title="Never committed"))
    session.flush()
    assert f"norm:{norm.id}" not in indexed(app)
    session.rollback()
    factory.norm(community, title="Committed later")
    titles = {d.get("title") for d in indexed(app).values()}
    assert "Committed later" in titles
    assert "Never committed" not in titles


def test_savepoints_wait_for_the_real_commit(app, factory, session):
    from normhub.norms.services import create_norm

    community = factory.community()
    author = factory.member(community)
    with session.begin_nested():
        kept = create_norm(session, community, author, factory.draft(title="Kept in a savepoint"))
        change_status(session, kept, author, "open")
    # The savepoint is released, but nothing is committed yet: nothing to see.
    assert f"norm:{kept.id}" not in indexed(app)
    savepoint = session.begin_nested()
    create_norm(session, community, author, factory.draft(title="Rolled back"))
    session.flush()
    savepoint.rollback()
    session.commit()
    titles = {d.get("title") for d in indexed(app).values()}
    assert "Kept in a savepoint" in titles
    assert "Rolled back" not in titles


def test_new_version_replaces_the_indexed_text(app, factory, session):
    community = factory.community()
    norm = factory.norm(community, title="Original wording", body="About kettles.")
    current = session.get(NormVersion, norm.current_version_id)
    revise_norm(
        session,
        norm,
        norm.author,
        draft_like(current, title="Revised wording", body="About teapots.", tags=["tea"]),
        "Kettles were the wrong example.",
        True,
    )
    session.commit()
    docs = [d for d in indexed(app).values() if d["id"] == f"norm:{norm.id}"]
    assert len(docs) == 1
    assert docs[0]["title"] == "Revised wording"
    assert docs[0]["body"] == "About teapots."
    assert docs[0]["tag"] == "tea"
    assert search(session, None, "kettles").total == 0
    assert search(session, None, "teapots").total == 1


def test_tag_only_edit_is_indexed(app, factory, session):
    community = factory.community()
    norm = factory.norm(community, tags=["alpha"])
    current = session.get(NormVersion, norm.current_version_id)
    assert (
        revise_norm(session, norm, norm.author, draft_like(current, tags=["beta"]), "", True)
        is None
    )
    session.commit()
    assert indexed(app)[f"norm:{norm.id}"]["tag"] == "beta"


def test_status_change_is_indexed(app, factory, session):
    community = factory.community()
    norm = factory.norm(community, status="draft")
    assert indexed(app)[f"norm:{norm.id}"]["status"] == "draft"
    change_status(session, norm, norm.author, "open")
    session.commit()
    assert indexed(app)[f"norm:{norm.id}"]["status"] == "open"


def test_comments_are_indexed_edited_and_removed_when_hidden(app, factory, session):
    community = factory.community()
    norm = factory.norm(community, title="Quiet hours")
    member = factory.member(community, name="Rosa Commenter")
    steward = factory.member(community, role="steward")
    comment = add_comment(session, norm, member, "What about *weekend* mornings?")
    doc = indexed(app)[f"comment:{comment.id}"]
    assert doc["body"] == "What about weekend mornings?"
    assert doc["norm_title"] == "Quiet hours"
    assert doc["author"] == "Rosa Commenter"
    assert doc["norm_id"] == str(norm.id)

    edit_comment(session, comment, member, "What about holiday mornings?")
    session.commit()
    assert indexed(app)[f"comment:{comment.id}"]["body"] == "What about holiday mornings?"

    hide_comment(session, comment, steward)
    session.commit()
    assert f"comment:{comment.id}" not in indexed(app)
    assert search(session, None, "holiday").total == 0

    unhide_comment(session, comment, steward)
    session.commit()
    assert f"comment:{comment.id}" in indexed(app)


def test_renaming_an_author_reindexes_their_work(app, factory, session):
    community = factory.community()
    author = factory.member(community, name="Old Name")
    norm = factory.norm(community, author)
    comment = add_comment(session, norm, author, "A remark")
    author.display_name = "Brand New"
    session.commit()
    docs = indexed(app)
    assert docs[f"norm:{norm.id}"]["author"] == "Brand New"
    assert docs[f"comment:{comment.id}"]["author"] == "Brand New"


def test_deleted_norm_and_its_comments_leave_the_index(app, factory, session):
    community = factory.community()
    norm = factory.norm(community)
    comment = add_comment(session, norm, norm.author, "Soon gone")
    norm_id = norm.id
    assert {f"norm:{norm_id}", f"comment:{comment.id}"} <= set(indexed(app))
    norm.current_version_id = None
    session.flush()
    session.delete(norm)
    session.commit()
    docs = indexed(app)
    assert f"norm:{norm_id}" not in docs
    assert f"comment:{comment.id}" not in docs


@pytest.fixture
def failing_writer(monkeypatch):
    def explode(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(updates, "write_collected", explode)


@pytest.mark.whoosh
def test_indexing_failure_keeps_the_database_write_and_rebuild_repairs(
    app, factory, session, monkeypatch, caplog
):
    community = factory.community()
    calls = []

    def explode(*args, **kwargs):
        calls.append(args)
        raise OSError("disk on fire")

    monkeypatch.setattr(updates, "write_collected", explode)
    norm = factory.norm(community, title="Written despite the index")  # commits; must not raise
    assert calls, "indexing was attempted"
    assert "Search indexing failed" in caplog.text
    assert session.get(type(norm), norm.id).title == "Written despite the index"
    assert f"norm:{norm.id}" not in indexed(app)
    assert norm.id in queue.peek(Path(app.config["SEARCH_INDEX_DIR"])).norms

    monkeypatch.undo()
    result = app.test_cli_runner().invoke(args=["search", "rebuild", "--quiet"])
    assert result.exit_code == 0, result.output
    assert f"norm:{norm.id}" in indexed(app)
    assert not queue.peek(Path(app.config["SEARCH_INDEX_DIR"]))


@pytest.mark.whoosh
def test_failure_through_a_request_still_saves_and_responds(
    app, factory, client, login_as, monkeypatch, failing_writer
):
    community = factory.community()
    norm = factory.norm(community)
    member = factory.member(community)
    login_as(member)
    response = client.post(
        f"/c/{community.slug}/norms/{norm.slug}/comments", data={"body": "Saved anyway"}
    )
    assert response.status_code in (302, 303)
    from sqlalchemy import select

    from normhub.discussion.models import Comment

    with app.app_context():
        fresh = app.extensions["normhub.sessionmaker"]()
        assert (
            fresh.scalar(select(Comment.body).where(Comment.norm_id == norm.id)) == "Saved anyway"
        )
        fresh.close()


@pytest.mark.whoosh
def test_queued_ids_are_indexed_by_the_next_successful_write(app, factory, monkeypatch):
    community = factory.community()
    monkeypatch.setattr(
        updates, "write_collected", lambda *a, **k: (_ for _ in ()).throw(OSError("boom"))
    )
    first = factory.norm(community, title="Queued first")
    monkeypatch.undo()
    second = factory.norm(community, title="Written second")
    docs = indexed(app)
    assert f"norm:{first.id}" in docs
    assert f"norm:{second.id}" in docs


@pytest.mark.whoosh
def test_locked_index_queues_instead_of_failing(app, factory, monkeypatch):
    community = factory.community()
    factory.norm(community, title="Before the lock")
    monkeypatch.setattr(writer, "LOCK_TIMEOUT_SECONDS", 0.05)
    monkeypatch.setattr(writer, "LOCK_ATTEMPTS", 2)
    directory = Path(app.config["SEARCH_INDEX_DIR"])
    holder = open_index(directory).writer()
    try:
        norm = factory.norm(community, title="While locked")  # must not raise or hang
        assert norm.id in queue.peek(directory).norms
        assert f"norm:{norm.id}" not in indexed(app)
    finally:
        holder.cancel()
    result = app.test_cli_runner().invoke(args=["search", "process-queue"])
    assert result.exit_code == 0, result.output
    assert f"norm:{norm.id}" in indexed(app)


@pytest.mark.whoosh
def test_rebuild_from_an_empty_index_via_cli(app, factory, session):
    app.config["SEARCH_INDEXING"] = False
    community = factory.community()
    norms = [factory.norm(community, title=f"Norm number {i}") for i in range(3)]
    comment = add_comment(session, norms[0], norms[0].author, "A comment to find")
    hidden = add_comment(session, norms[0], norms[0].author, "A hidden comment")
    steward = factory.member(community, role="steward")
    hide_comment(session, hidden, steward)
    session.commit()
    assert indexed(app) == {}

    app.config["SEARCH_INDEXING"] = True
    result = app.test_cli_runner().invoke(args=["search", "rebuild", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "Indexed 4 documents" in result.output
    docs = indexed(app)
    assert {f"norm:{n.id}" for n in norms} | {f"comment:{comment.id}"} == set(docs)

    status = app.test_cli_runner().invoke(args=["search", "status"])
    assert "4 documents in 1 segment" in status.output


def test_rebuild_replaces_stale_documents(app, factory):
    community = factory.community()
    norm = factory.norm(community)
    backend = backend_for(app)
    backend.write([{"id": "norm:999999", "kind": "norm", "norm_id": "999999", "title": "Ghost"}])
    assert "norm:999999" in indexed(app)
    backend.rebuild()
    assert set(indexed(app)) == {f"norm:{norm.id}"}


def test_disabled_indexing_writes_nothing(app, factory):
    app.config["SEARCH_INDEXING"] = False
    community = factory.community()
    factory.norm(community)
    assert indexed(app) == {}


def _write_many(directory: str, prefix: str, count: int, barrier) -> None:
    barrier.wait()
    for n in range(count):
        write_documents(
            Path(directory),
            [{"id": f"{prefix}:{n}", "kind": "norm", "norm_id": str(n), "title": f"{prefix} {n}"}],
            [],
        )


def _run_together(target, arguments: list[tuple], timeout: float) -> list[int | None]:
    """One spawned process per arguments tuple, released together by a shared
    barrier (passed last); their exit codes."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(arguments))
    workers = [context.Process(target=target, args=(*args, barrier)) for args in arguments]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout)
    return [worker.exitcode for worker in workers]


def test_two_processes_writing_at_once_both_succeed(tmp_path):
    directory = tmp_path / "shared-index"
    arguments = [(str(directory), name, 25) for name in ("alpha", "beta")]
    assert _run_together(_write_many, arguments, timeout=120) == [0, 0]
    ix = open_index(directory, create=False)
    with ix.searcher() as searcher:
        ids = {fields["id"] for fields in searcher.all_stored_fields()}
    assert ids == {f"{name}:{n}" for name in ("alpha", "beta") for n in range(25)}
    assert not queue.peek(directory)


def _propose_many(database_url: str, index_directory: str, prefix: str, count: int, barrier):
    """One 'worker process': its own app, proposing norms through the real services."""
    from normhub import create_app
    from normhub.communities.services import create_community
    from tests.factories import Factory

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SEARCH_INDEX_DIR": index_directory,
            "SERVER_NAME": "normhub.test",
        },
        instance_path=str(Path(index_directory).parent),
    )
    with app.app_context():
        session = app.extensions["normhub.sessionmaker"]()
        factory = Factory(session)
        # Each spawned process restarts the factory's counter: use unique names.
        author = factory.user(prefix, email=f"{prefix.lower()}@example.org")
        community = create_community(session, author, f"{prefix} side", slug=prefix.lower())
        session.commit()
        barrier.wait(timeout=120)
        for n in range(count):
            factory.norm(community, author, title=f"{prefix} proposal {n}")
        session.close()


def test_two_app_processes_committing_at_once_index_everything(app, database_url):
    directory = app.config["SEARCH_INDEX_DIR"]
    arguments = [(database_url, directory, prefix, 12) for prefix in ("Left", "Right")]
    assert _run_together(_propose_many, arguments, timeout=300) == [0, 0]
    titles = {doc.get("title") for doc in indexed(app).values()}
    expected = {f"{prefix} proposal {n}" for prefix in ("Left", "Right") for n in range(12)}
    assert expected <= titles
    assert not queue.peek(Path(directory))


@pytest.mark.whoosh
def test_merge_command_folds_update_segments_together(app, factory):
    community = factory.community()
    norms = [factory.norm(community, title=f"Segment {n}") for n in range(3)]
    ix = open_index(Path(app.config["SEARCH_INDEX_DIR"]), create=False)
    assert len(ix._segments()) > 1
    result = app.test_cli_runner().invoke(args=["search", "merge"])
    assert result.exit_code == 0, result.output
    ix = open_index(Path(app.config["SEARCH_INDEX_DIR"]), create=False)
    assert len(ix._segments()) == 1
    assert {f"norm:{n.id}" for n in norms} <= set(indexed(app))
