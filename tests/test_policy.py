"""The table of who may do what, read through the services that ask it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from normhub import policy
from normhub.communities.models import Community
from normhub.communities.services import (
    active_membership,
    can_view,
    communities_allowing_clause,
    leave,
)
from normhub.discussion.services import can_comment, can_moderate
from normhub.exposure.reminders import can_remind, can_see_reminders
from normhub.norms.services import can_edit, can_propose
from normhub.responses.services import can_respond


@pytest.fixture
def cast(factory, session):
    community = factory.community(visibility="members")
    people = {
        "member": factory.member(community),
        "steward": factory.member(community, role="steward"),
        "admin": factory.member(community, role="admin"),
        "former": factory.member(community),
        "outsider": factory.user(),
        "site admin": factory.user(admin=True),
    }
    author = factory.member(community)
    norm = factory.norm(community, author)
    leave(session, community, people["former"])
    people["author"] = author
    session.flush()
    return community, norm, people


EXPECTED = {
    # who:        view  propose edit  respond comment moderate
    "member": (True, True, False, True, True, False),
    "steward": (True, True, True, True, True, True),
    "admin": (True, True, True, True, True, True),
    "author": (True, True, True, True, True, False),
    "former": (False, False, False, False, False, False),
    "outsider": (False, False, False, False, False, False),
    "site admin": (True, False, True, False, False, True),
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_each_role_may_do_what_the_table_says(session, cast, who):
    community, norm, people = cast
    person = people[who]
    membership = active_membership(session, community, person)
    answers = (
        can_view(community, membership, person),
        can_propose(session, community, person),
        can_edit(session, norm, person),
        can_respond(session, norm, person),
        can_comment(session, norm, person),
        can_moderate(session, norm, person),
    )
    assert answers == EXPECTED[who]


REMINDERS = {
    # who:        remind a member of a norm, see the community's reminders
    "member": (True, False),
    "steward": (True, True),
    "admin": (True, True),
    "author": (True, False),
    "former": (False, False),
    "outsider": (False, False),
    "site admin": (False, True),
}


@pytest.mark.parametrize("who", sorted(REMINDERS))
def test_who_may_remind_and_see_the_reminders(session, cast, who):
    community, _norm, people = cast
    person = people[who]
    answers = (
        can_remind(session, community, person),
        can_see_reminders(session, community, person),
    )
    assert answers == REMINDERS[who]


# Who may check where someone stands with a norm (the check page and the API ask this).
CHECKERS = {"member", "steward", "admin", "author", "site admin"}


@pytest.mark.parametrize("who", sorted(REMINDERS))
def test_who_may_make_an_exposure_check(session, cast, who):
    community, _norm, people = cast
    person = people[who]
    membership = active_membership(session, community, person)
    assert policy.allows("exposure.check", membership, person) == (who in CHECKERS)


def test_anonymous_visitors_may_do_nothing(session, cast):
    community, norm, _ = cast
    assert not can_view(community, None, None)
    assert not can_propose(session, community, None)
    assert not can_edit(session, norm, None)
    assert not any(policy.allows(action, None, None) for action in policy.RULES)


def test_an_author_who_left_may_no_longer_edit(session, cast):
    community, norm, people = cast
    leave(session, community, people["author"])
    assert not can_edit(session, norm, people["author"])


def test_the_template_helper_asks_the_same_table(app, client, factory, session, login_as):
    community = factory.community(name="Allotments")
    member = factory.member(community)
    page = client.get(f"/c/{community.slug}").get_data(as_text=True)
    assert f"/c/{community.slug}/norms/new" not in page
    login_as(member)
    page = client.get(f"/c/{community.slug}").get_data(as_text=True)
    assert f"/c/{community.slug}/norms/new" in page


def test_list_clauses_follow_the_table(session, cast):
    """The query form of the table agrees with ``allows`` for every person and action."""
    community, _, people = cast
    for action in ("member.see-activity", "exposure.see-not-exposed"):
        for who, person in people.items():
            listed = session.scalar(
                select(Community.id).where(
                    Community.id == community.id, communities_allowing_clause(action, person)
                )
            )
            membership = active_membership(session, community, person)
            assert (listed is not None) == policy.allows(action, membership, person), (action, who)
    assert policy.roles_allowed("member.see-activity") == ("member", "steward", "admin")
    assert policy.roles_allowed("exposure.see-not-exposed") == ("steward", "admin")
