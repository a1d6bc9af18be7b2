"""A community's path is kept between requests, and never served once a write changed it.

Two apps on the same database and instance folder stand for two processes of one
machine: one keeps a path, the other writes, and the first must build it again.
Each kind of write a path is built from is tried: a status change (of a norm on
the path and of one citing it), a prerequisite added and removed, a revision of
a norm in force. Then: a transaction's own writes, a read that began before a
write committed, a write that changes no path, and a members-only community.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from normhub import create_app
from normhub.db import dispose_engines, set_write_intent
from normhub.discussion.services import post_comment
from normhub.norms import path_cache
from normhub.norms.models import Norm, NormPrerequisite
from normhub.norms.path import _build_facts, community_path, load_paths, path_facts
from normhub.norms.services import change_status, revise_norm, set_prerequisites
from tests.conftest import login, new_client
from tests.test_newcomer_path import in_force, small_world, step_titles
from tests.two_processes import SHARED_SETTINGS, counted, session_of


def kept_path(app, community_id: int):
    """The path ``app`` serves now (kept or built), and a fresh build, as plain steps."""
    with session_of(app) as session:
        served = path_facts(session, [community_id])[community_id]
    with session_of(app) as session:
        fresh = _build_facts(session, [community_id], {})[community_id]
    return served, fresh


def titles(app, community_id: int) -> list[str]:
    with session_of(app) as session:
        return [step.norm.title for step in load_paths(session, [community_id])[community_id].steps]


def test_a_kept_path_is_served_without_building_it_and_equals_a_fresh_one(app, session, factory):
    community, _author, _norms = small_world(factory)

    def steps(path):
        return [(s.norm.id, s.position, s.words, s.builds_on, s.in_force_base) for s in path.steps]

    with session_of(app) as reader:
        first = steps(community_path(reader, community))
    with session_of(app) as reader, counted(app) as statements:
        assert steps(community_path(reader, community)) == first
    # The norms themselves, loaded in one query; neither words nor links counted again.
    assert len([s for s in statements if s.startswith("SELECT")]) == 1
    assert not any("norm_prerequisites" in s or "length(" in s for s in statements)
    served, fresh = kept_path(app, community.id)
    assert served == fresh
    with session_of(app) as reader, counted(app) as statements:
        path_facts(reader, [community.id])
    assert not [s for s in statements if s.startswith("SELECT")]


def test_a_status_change_is_never_served_stale_by_another_process(app, other_app, session, factory):
    community, author, (basics, sources, advanced, kind) = small_world(factory)
    steward = factory.member(community, role="steward")
    assert titles(other_app, community.id) == [
        "Basics",
        "Cite sources",
        "Advanced citing",
        "Be kind",
    ]
    change_status(session, kind, steward, "retired")
    session.commit()
    assert titles(other_app, community.id) == ["Basics", "Cite sources", "Advanced citing"]
    newcomer = in_force(factory, community, author, "A late one")
    assert titles(other_app, community.id)[-1] == newcomer.title
    served, fresh = kept_path(other_app, community.id)
    assert served == fresh


def test_a_citing_norms_status_change_is_never_served_stale(app, other_app, session, factory):
    community, author, _norms = small_world(factory)
    cited = in_force(factory, community, author, "Zz last by title")
    citing = factory.norm(community, author, title="Open and citing")
    served, _ = kept_path(other_app, community.id)
    before = next(step for step in served if step.norm_id == cited.id)
    set_prerequisites(session, citing, author, [cited])
    session.commit()
    served, fresh = kept_path(other_app, community.id)
    assert served == fresh
    assert next(s for s in served if s.norm_id == cited.id).citations == before.citations + 1
    change_status(session, citing, author, "withdrawn")
    session.commit()
    served, fresh = kept_path(other_app, community.id)
    assert served == fresh
    assert next(s for s in served if s.norm_id == cited.id).citations == before.citations


def test_a_prerequisite_added_or_removed_is_never_served_stale(app, other_app, session, factory):
    community, author, (basics, sources, advanced, kind) = small_world(factory)
    assert titles(other_app, community.id) == [
        "Basics",
        "Cite sources",
        "Advanced citing",
        "Be kind",
    ]
    set_prerequisites(session, sources, author, [kind])
    session.commit()
    assert titles(other_app, community.id) == [
        "Basics",
        "Be kind",
        "Cite sources",
        "Advanced citing",
    ]
    set_prerequisites(session, sources, author, [])
    session.commit()
    assert titles(other_app, community.id) == [
        "Basics",
        "Cite sources",
        "Advanced citing",
        "Be kind",
    ]
    served, fresh = kept_path(other_app, community.id)
    assert served == fresh


def test_a_revision_of_a_norm_in_force_is_never_served_stale(app, other_app, session, factory):
    community, author, (basics, sources, advanced, kind) = small_world(factory)
    served, _ = kept_path(other_app, community.id)
    words = next(step.words for step in served if step.norm_id == kind.id)
    draft = factory.draft(title="Aa kind first", body="word " * 600)
    revise_norm(session, kind, author, draft, "Longer, and a new title.", False)
    session.commit()
    served, fresh = kept_path(other_app, community.id)
    assert served == fresh
    assert next(step.words for step in served if step.norm_id == kind.id) > words + 500
    assert titles(other_app, community.id)[-1] == "Aa kind first"


def test_a_transaction_sees_its_own_writes_and_a_rolled_back_one_leaves_no_trace(
    app, session, factory
):
    community, author, (basics, sources, advanced, kind) = small_world(factory)
    steward = factory.member(community, role="steward")
    assert len(community_path(session, community).steps) == 4
    session.commit()
    change_status(session, kind, steward, "retired")  # flushed, not committed
    assert kind.id not in community_path(session, community).norm_ids
    session.rollback()
    assert kind.id in community_path(session, community).norm_ids
    session.commit()
    session.add(NormPrerequisite(norm_id=sources.id, prerequisite_id=kind.id))  # not flushed
    assert community_path(session, community).norm_ids.index(kind.id) < (
        community_path(session, community).norm_ids.index(sources.id)
    )
    session.rollback()
    served, fresh = kept_path(app, community.id)
    assert served == fresh


def test_a_read_begun_before_a_write_committed_keeps_nothing_stale(
    app, other_app, session, factory
):
    community, _author, (basics, sources, advanced, kind) = small_world(factory)
    steward = factory.member(community, role="steward")
    session.commit()
    with other_app.app_context():
        set_write_intent(False)  # a GET: a deferred transaction, as a page's
        reader = other_app.extensions["normhub.sessionmaker"]()
        try:
            reader.scalar(select(func.count()).select_from(Norm))  # its snapshot, on SQLite
            change_status(session, kind, steward, "retired")
            session.commit()  # and the path's tag is bumped
            path_facts(reader, [community.id])  # built from what the reader may see
        finally:
            reader.rollback()
            reader.close()
            set_write_intent(True)
    served, fresh = kept_path(other_app, community.id)
    assert served == fresh
    assert kind.id not in [step.norm_id for step in served]


def test_a_write_that_changes_no_path_keeps_it(app, session, factory):
    community, author, (basics, sources, advanced, kind) = small_world(factory)
    community_path(session, community)
    session.commit()
    basics.last_activity_at = basics.created_at  # activity orders lists, not the path
    factory.norm(community, author, title="A draft", status="draft")
    post_comment(session, basics, author, "A comment changes no path.")
    session.commit()
    with session_of(app) as reader, counted(app) as statements:
        path_facts(reader, [community.id])
    assert not [s for s in statements if s.startswith("SELECT")]


def test_a_kept_members_only_path_is_still_a_404_to_outsiders(app, client, session, factory):
    hidden = factory.community(visibility="members")
    author = factory.member(hidden, name="Sid Secret")
    in_force(factory, hidden, author, "Secret rule")
    url = f"/c/{hidden.slug}/start"
    login(client, author)
    assert step_titles(client.get(url).get_data(as_text=True)) == ["Secret rule"]
    assert app.extensions[path_cache.EXTENSION]._values  # kept
    outsider = new_client(app, session)
    assert outsider.get(url).status_code == 404
    login(outsider, factory.user("Otto Outsider"))
    for address in (url, f"/api/v1/communities/{hidden.slug}/path", "/queue", "/"):
        response = outsider.get(address)
        assert b"Secret rule" not in response.data
        assert response.status_code in (200, 404)
    assert re.search(rb"Secret rule", client.get(url).data)


def test_servers_sharing_redis_never_serve_a_stale_path(app, session, factory, tmp_path, request):
    """Two machines: their own instance folders, one Redis for the tags."""
    shared = request.getfixturevalue("redis_page_cache")
    settings = {name: app.config[name] for name in SHARED_SETTINGS}
    first = create_app({**settings, **shared}, instance_path=str(tmp_path / "first"))
    second = create_app({**settings, **shared}, instance_path=str(tmp_path / "second"))
    try:
        community, author, (basics, sources, advanced, kind) = small_world(factory)
        steward = factory.member(community, role="steward")
        assert len(titles(second, community.id)) == 4
        with first.app_context():
            writer = first.extensions["normhub.sessionmaker"]()
            change_status(
                writer, writer.get(Norm, kind.id), writer.get(type(steward), steward.id), "retired"
            )
            writer.commit()
            writer.close()
        assert titles(second, community.id) == ["Basics", "Cite sources", "Advanced citing"]
        served, fresh = kept_path(second, community.id)
        assert served == fresh
    finally:
        dispose_engines(first)
        dispose_engines(second)
