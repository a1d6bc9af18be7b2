"""A member's page shows what they answered only to fellow active members of each community."""

from __future__ import annotations

import pytest

from normhub.communities.services import leave
from normhub.responses.services import record_response


@pytest.fixture
def pages(client, factory, session, login_as):
    """The reader's page as each kind of visitor sees it, by who is looking."""
    reader = factory.user("Rosa Reader")
    public = factory.community(name="Open Garden")
    hidden = factory.community(visibility="members")
    factory.member(public, reader)
    factory.member(hidden, reader)
    factory.norm(public, reader, title="Rosa's own proposal")
    answered = factory.norm(public, title="Water the beds at dusk")
    secret = factory.norm(hidden, title="Keep the rent dispute quiet")
    record_response(session, answered, reader, "yes", "endorse")
    record_response(session, secret, reader, "partly", "undecided")
    viewers = {
        "outsider": factory.user("Outsider"),
        "fellow": factory.member(public, name="Fellow Gardener"),
        "fellow in hidden": factory.member(hidden, name="Fellow Tenant"),
        "former": factory.member(public, name="Former Gardener"),
        "former in hidden": factory.member(hidden, name="Former Tenant"),
        "site admin": factory.user("Site Admin", admin=True),
    }
    leave(session, public, viewers["former"])
    leave(session, hidden, viewers["former in hidden"])
    session.commit()

    def page_for(who: str) -> str:
        client.post("/logout")
        if who != "anonymous":
            login_as(viewers[who])
        response = client.get(f"/members/{reader.handle}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    return page_for, hidden


PUBLIC_ENTRY = "Water the beds at dusk"
SECRET_ENTRY = "Keep the rent dispute quiet"


@pytest.mark.parametrize("who", ["anonymous", "outsider", "former", "former in hidden"])
def test_no_response_reaches_anyone_outside(pages, who):
    page_for, hidden = pages
    page = page_for(who)
    # The proposal is public (its norm page names its author); the answers are not.
    assert "Rosa&#39;s own proposal" in page
    assert PUBLIC_ENTRY not in page
    assert SECRET_ENTRY not in page
    assert "on version" not in page
    # Nothing of the members-only community: not its name, not a count, not a link.
    assert hidden.name not in page and hidden.slug not in page
    assert "shown only to fellow members" in page


def test_a_fellow_member_sees_the_answers_in_their_own_community_only(pages):
    page_for, hidden = pages
    page = page_for("fellow")
    assert PUBLIC_ENTRY in page and "on version 1" in page
    assert SECRET_ENTRY not in page and hidden.name not in page


def test_a_fellow_member_of_the_members_only_community_sees_that_answer_only(pages):
    page_for, hidden = pages
    page = page_for("fellow in hidden")
    assert SECRET_ENTRY in page and hidden.name in page
    # The public community's norm is on the page as a proposal, but Rosa's answer
    # there is for members of that community.
    assert PUBLIC_ENTRY not in page


def test_a_site_admin_sees_every_answer(pages):
    page_for, hidden = pages
    page = page_for("site admin")
    assert PUBLIC_ENTRY in page and SECRET_ENTRY in page and hidden.name in page
    assert page.count("on version 1") == 2
