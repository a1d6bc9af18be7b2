"""The PostgreSQL search backend's own promises: documents written in the writer's
transaction, a failing search write never losing the user's, and a rebuild losing
nothing written while it runs."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from normhub.communities.models import Community
from normhub.discussion.models import Comment
from normhub.discussion.services import edit_comment, post_comment
from normhub.norms.models import Norm, NormVersion
from normhub.norms.services import revise_norm
from normhub.search import indexing
from normhub.search.backend import backend_for
from normhub.search.postgres import store
from normhub.search.postgres.backend import PostgresBackend
from normhub.search.services import search
from tests.conftest import SEARCH_BACKEND
from tests.factories import Factory
from tests.search_helpers import add_comment, draft_like, indexed

pytestmark = [
    pytest.mark.postgres_only,
    # ``make test-postgres-whoosh`` runs the suite on PostgreSQL with Whoosh instead.
    pytest.mark.skipif(
        SEARCH_BACKEND not in (None, "postgres"), reason="this run searches with Whoosh"
    ),
]


def test_postgresql_gets_the_postgres_backend(app):
    assert backend_for(app).name == "postgres"
    assert app.config["SEARCH_BACKEND"] == "postgres"


def test_documents_are_written_in_the_writers_transaction(app, factory, session, monkeypatch):
    community = factory.community()
    after_commit = []
    monkeypatch.setattr(PostgresBackend, "index", lambda self, pending: after_commit.append(1))
    norm = factory.norm(community, title="Chain the gate")
    comment = add_comment(session, norm, norm.author, "The latch sticks")
    assert {f"norm:{norm.id}", f"comment:{comment.id}"} <= set(indexed(app))
    assert after_commit == []  # nothing was left for after the commit


def test_a_failing_search_write_keeps_the_users_write(app, factory, session, monkeypatch, caplog):
    community = factory.community()
    norm = factory.norm(community, title="Stack chairs after use")
    attempts = []

    def explode(connection, documents=(), removed=()):
        attempts.append(documents)
        raise RuntimeError("search table on fire")

    monkeypatch.setattr(store, "write", explode)
    comment = add_comment(session, norm, norm.author, "Stacks of six at most")  # must not raise
    assert attempts, "indexing was attempted"
    assert "Search indexing in the transaction failed" in caplog.text
    assert session.get(Comment, comment.id).body == "Stacks of six at most"
    assert f"comment:{comment.id}" not in indexed(app)

    monkeypatch.undo()
    result = app.test_cli_runner().invoke(args=["search", "rebuild", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Indexed 2 documents into the database" in result.output
    assert f"comment:{comment.id}" in indexed(app)
    status = app.test_cli_runner().invoke(args=["search", "status"])
    assert "2 documents." in status.output


def test_a_rolled_back_write_leaves_no_document(app, factory, session):
    community = factory.community()
    norm = factory.norm(community, title="Water the plants")
    post_comment(session, norm, norm.author, "Fridays suit me")
    session.flush()
    session.rollback()
    assert [d for d in indexed(app) if d.startswith("comment:")] == []


def _writer(app, community_id: int, started: threading.Event, stop: threading.Event, log):
    """Proposes norms, comments on them and revises them until told to stop."""
    with app.app_context():
        session = app.extensions["normhub.sessionmaker"]()
        factory = Factory(session)
        community = session.get(Community, community_id)
        try:
            n = 0
            while not stop.is_set() or n < 6:
                norm = factory.norm(community, title=f"Written meanwhile {n}")
                comment = post_comment(session, norm, norm.author, f"Remark meanwhile {n}")
                session.commit()
                current = session.get(NormVersion, norm.current_version_id)
                draft = draft_like(current, title=f"Revised meanwhile {n}")
                revise_norm(session, norm, norm.author, draft, "Clearer.", True)
                edit_comment(session, comment, norm.author, f"Edited remark {n}")
                session.commit()
                log.append(norm.id)
                n += 1
                if n == 3:
                    started.set()
        finally:
            started.set()
            session.close()


def test_rebuild_loses_nothing_written_while_it_runs(app, factory, session):
    community = factory.community()
    for n in range(12):
        norm = factory.norm(community, title=f"Before the rebuild {n}")
        add_comment(session, norm, norm.author, f"Early remark {n}")
    started, stop, written = threading.Event(), threading.Event(), []
    writer = threading.Thread(target=_writer, args=(app, community.id, started, stop, written))
    writer.start()

    def progress(_count: int) -> None:
        started.wait(60)  # the writer is under way before the rebuild goes on

    try:
        backend_for(app).rebuild(batch_size=3, progress=progress)
    finally:
        stop.set()
        writer.join(120)
    assert len(written) >= 6

    session.expire_all()
    docs = indexed(app)
    norms = session.execute(select(Norm.id, Norm.title)).all()
    comments = session.execute(select(Comment.id, Comment.body)).all()
    assert {f"norm:{i}": t for i, t in norms} == {
        d["id"]: d["title"] for d in docs.values() if d["kind"] == "norm"
    }
    assert {f"comment:{i}": b for i, b in comments} == {
        d["id"]: d["body"] for d in docs.values() if d["kind"] == "comment"
    }
    assert session.scalar(select(func.count(Norm.id))) == 12 + len(written)
    assert search(session, None, '"revised meanwhile"').total == len(written)


def test_index_after_commit_catches_up_what_the_transaction_could_not(app, factory, session):
    app.config["SEARCH_INDEXING"] = False
    community = factory.community()
    norm = factory.norm(community, title="Sweep the stairs")
    assert indexed(app) == {}
    assert backend_for(app).index(indexing.ids_of([norm])) is True
    assert set(indexed(app)) == {f"norm:{norm.id}"}


def test_a_write_during_a_rebuild_batch_is_not_overwritten(app, factory, session, monkeypatch):
    """The batch has read a norm; the norm is revised before the batch writes: the
    revision must win (the writer waits for the batch, then writes its own document)."""
    community = factory.community()
    norms = [factory.norm(community, title=f"Batch member {n}") for n in range(3)]
    target_id = norms[0].id
    rebuilding = threading.current_thread()
    collect, racer = store.collect_documents, []

    def revise_target() -> None:
        with app.app_context():
            other = app.extensions["normhub.sessionmaker"]()
            norm = other.get(Norm, target_id)
            current = other.get(NormVersion, norm.current_version_id)
            draft = draft_like(current, title="Revised during the batch")
            revise_norm(other, norm, norm.author, draft, "Clearer.", True)
            other.commit()
            other.close()

    def collect_then_race(reader, pending):
        changes = collect(reader, pending)
        if threading.current_thread() is rebuilding and not racer and target_id in pending.norms:
            racer.append(threading.Thread(target=revise_target))
            racer[0].start()
            # Give an unguarded writer every chance to commit before this batch writes.
            racer[0].join(2)
        return changes

    monkeypatch.setattr(store, "collect_documents", collect_then_race)
    backend_for(app).rebuild(batch_size=10)
    racer[0].join(60)
    assert indexed(app)[f"norm:{target_id}"]["title"] == "Revised during the batch"
