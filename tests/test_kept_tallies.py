"""A norm's response tallies are kept between requests, and never served once an answer
changed them.

Two apps on the same database and instance folder stand for two processes of one
machine: one keeps the tallies, the other records an answer, and the first must count
again. Then: a material revision (which answers count), a transaction's own answer, a
read that began before an answer committed, writes that change no tally, and the
norm page of a members-only community.
"""

from __future__ import annotations

from sqlalchemy import func, select

from normhub.accounts.models import User
from normhub.db import set_write_intent
from normhub.discussion.services import post_comment
from normhub.norms.models import Norm, NormVersion
from normhub.norms.services import revise_norm
from normhub.pagecache.serving import STORE
from normhub.responses import kept_tallies
from normhub.responses.models import Response
from normhub.responses.services import (
    AssumptionAnswer,
    _count_answers,
    aggregate_responses,
    record_response,
)
from tests.conftest import login, new_client
from tests.two_processes import counted, session_of


def tallies(app, norm_id: int) -> tuple:
    """What ``app`` shows of the norm's tallies now (kept or counted), as plain values."""
    with session_of(app) as session:
        aggregate = aggregate_responses(session, session.get(Norm, norm_id))
        return (
            aggregate.respondents,
            dict(aggregate.understood),
            dict(aggregate.endorsement),
            [
                (t.assumption.key, dict(t.understood), dict(t.agreement))
                for t in aggregate.assumptions
            ],
        )


def fresh_count(app, norm_id: int):
    with session_of(app) as session:
        norm = session.get(Norm, norm_id)
        key = (norm.id, norm.last_material_version_number)
        return _count_answers(session, [key])[key]


def answer(session, norm, person, understood="yes", endorsement="endorse", agreement="agree"):
    assumptions = session.get(NormVersion, norm.current_version_id).assumptions
    answers = {a.id: AssumptionAnswer(understood, agreement) for a in assumptions}
    record_response(session, norm, person, understood, endorsement, "", answers)
    session.commit()


def tally_statements(statements: list[str]) -> list[str]:
    return [s for s in statements if "count(*)" in s and "responses" in s]


def answered_norm(factory, session):
    community = factory.community()
    author = factory.member(community, name="Ada Author")
    norm = factory.norm(community, author, title="Cite the base")
    for name, understood in (("Una", "yes"), ("Per", "partly")):
        answer(session, norm, factory.member(community, name=name), understood)
    return community, author, norm


def test_kept_tallies_are_served_without_counting_and_equal_a_fresh_count(app, session, factory):
    _community, _author, norm = answered_norm(factory, session)
    first = tallies(app, norm.id)
    assert first[0] == 2 and first[1] == {"yes": 1, "partly": 1}
    with counted(app) as statements:
        assert tallies(app, norm.id) == first
    assert tally_statements(statements) == []
    kept = app.extensions[kept_tallies.EXTENSION]
    with session_of(app) as reader:
        key = (norm.id, norm.last_material_version_number)
        assert kept.values(reader, [key], _count_answers)[key] == fresh_count(app, norm.id)


def test_an_answer_in_another_process_is_never_served_stale(app, other_app, session, factory):
    community, _author, norm = answered_norm(factory, session)
    assert tallies(other_app, norm.id)[0] == 2
    # An answer to the norm alone, none to its assumptions: the response bumps the tallies.
    record_response(session, norm, factory.member(community, name="Ned"), "no", "undecided")
    session.commit()
    assert tallies(other_app, norm.id)[1] == {"yes": 1, "partly": 1, "no": 1}
    answer(session, norm, factory.member(community, name="Nia"), "no", "reject", "disagree")
    respondents, understood, endorsement, assumptions = tallies(other_app, norm.id)
    assert respondents == 4
    assert understood == {"yes": 1, "partly": 1, "no": 2}
    assert endorsement["reject"] == 1
    assert all(agreement["disagree"] == 1 for _key, _understood, agreement in assumptions)
    # A member answering again counts once, with their newest answer.
    first = session.scalar(select(Response.user_id).where(Response.norm_id == norm.id).limit(1))
    answer(session, norm, session.get(User, first), "no", "reject", "disagree")
    assert tallies(other_app, norm.id)[1] == {"partly": 1, "no": 3}


def test_a_material_revision_counts_afresh(app, other_app, session, factory):
    community, author, norm = answered_norm(factory, session)
    assert tallies(other_app, norm.id)[0] == 2
    draft = factory.draft(body="A new rule, with other reasons.\n\nRead it again.")
    revise_norm(session, norm, author, draft, "Rewritten.", True)
    session.commit()
    assert tallies(other_app, norm.id)[0] == 0  # nobody answered the new text yet
    answer(session, norm, factory.member(community, name="Nia"))
    assert tallies(other_app, norm.id)[0] == 1


def test_a_deleted_norms_tallies_are_never_served_again(app, session, factory):
    community, author, norm = answered_norm(factory, session)
    norm_id = norm.id
    assert tallies(app, norm_id)[0] == 2
    store = app.extensions[STORE]
    before = store.versions([kept_tallies.tallies_tag(norm_id)])
    session.delete(norm)  # its answers go by the database's cascade
    session.commit()
    assert store.versions([kept_tallies.tallies_tag(norm_id)]) != before
    # SQLite gives the highest id again: the next norm may be this one's namesake.
    successor = factory.norm(community, author, title="A new one")
    assert tallies(app, successor.id)[0] == 0


def test_a_transaction_sees_its_own_answer_and_a_rolled_back_one_leaves_no_trace(
    app, session, factory
):
    community, _author, norm = answered_norm(factory, session)
    assert tallies(app, norm.id)[0] == 2
    late = factory.member(community, name="Lee Late")
    with app.app_context():
        record_response(session, norm, late, "no", "reject")  # flushed, not committed
        assert aggregate_responses(session, norm).respondents == 3
        session.rollback()
    assert tallies(app, norm.id)[1] == {"yes": 1, "partly": 1}


def test_a_read_begun_before_an_answer_committed_keeps_nothing_stale(
    app, other_app, session, factory
):
    community, _author, norm = answered_norm(factory, session)
    late = factory.member(community, name="Lee Late")
    with other_app.app_context():
        set_write_intent(False)  # a GET: a deferred transaction, as a page's
        reader = other_app.extensions["normhub.sessionmaker"]()
        try:
            reader.scalar(select(func.count()).select_from(Norm))  # its snapshot, on SQLite
            answer(session, norm, late, "no", "reject")  # committed; the tag is bumped
            aggregate_responses(reader, reader.get(Norm, norm.id))  # what the reader may see
        finally:
            reader.rollback()
            reader.close()
            set_write_intent(True)
    assert tallies(other_app, norm.id)[0] == 3


def test_writes_that_change_no_tally_keep_them(app, session, factory):
    community, author, norm = answered_norm(factory, session)
    tallies(app, norm.id)
    post_comment(session, norm, author, "A comment changes no tally.")
    factory.member(community, name="Newcomer")
    session.commit()
    with counted(app) as statements:
        assert tallies(app, norm.id)[0] == 2
    assert tally_statements(statements) == []


def test_kept_tallies_of_a_members_only_norm_stay_a_404_to_outsiders(app, client, session, factory):
    hidden = factory.community(visibility="members")
    author = factory.member(hidden, name="Sid Secret")
    norm = factory.norm(hidden, author, title="Secret rule")
    answer(session, norm, factory.member(hidden, name="Mo Member"))
    url = f"/c/{hidden.slug}/norms/{norm.slug}"
    login(client, author)
    assert b"Secret rule" in client.get(url).data
    assert app.extensions[kept_tallies.EXTENSION]._values  # kept
    outsider = new_client(app, session)
    assert outsider.get(url).status_code == 404
    login(outsider, factory.user("Otto Outsider"))
    assert outsider.get(url).status_code == 404
