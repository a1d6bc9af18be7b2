"""\"Did you mean\" offers only words the asker could find: nothing from a members-only
community reaches anyone outside it, not even as a spelling suggestion."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from normhub.communities.models import Membership
from normhub.communities.services import leave
from normhub.search.services import search


@pytest.fixture
def words(factory, session):
    public = factory.community()
    private = factory.community(visibility="members", join_policy="invite")
    factory.norm(
        public,
        title="Paint the hall in pastel colours",
        summary="A pastel wall hides scuffs.",
    )
    factory.norm(
        private,
        title="Raise every objection in writing",
        summary="Leave a parcel for the objection box by Friday.",
    )
    insider = factory.member(private, name="Insider")
    outsider = factory.user("Outsider")
    admin = factory.user("Site Admin", admin=True)
    return insider, outsider, admin


def test_outsiders_are_offered_only_visible_words(session, words):
    insider, outsider, admin = words
    for viewer in (None, outsider):
        # "objection" is one letter away but only in the members-only community.
        assert search(session, viewer, "objectiox").suggestion is None
        assert search(session, viewer, "writinx").suggestion is None
        # "parcel" is closer than "pastel", but only "pastel" is theirs to find.
        assert search(session, viewer, "pancel").suggestion == "pastel"
        # A word only in hidden documents is not "known" to them either.
        assert search(session, viewer, "parcel").total == 0
        assert search(session, viewer, "parcel").suggestion == "pastel"
    assert search(session, insider, "objectiox").suggestion == "objection"
    assert search(session, insider, "writinx").suggestion == "writing"
    assert search(session, insider, "pancel").suggestion == "parcel"
    assert search(session, insider, "parcel").suggestion is None
    assert search(session, admin, "objectiox").suggestion == "objection"


def test_former_members_lose_the_suggestions(session, words):
    insider, _, _ = words
    assert search(session, insider, "writinx").suggestion == "writing"
    for membership in session.scalars(select(Membership).where(Membership.user_id == insider.id)):
        leave(session, membership.community, insider)
    session.commit()
    assert search(session, insider, "writinx").suggestion is None


def test_the_api_and_the_page_keep_hidden_words_to_members(client, login_as, words):
    insider, outsider, _ = words
    for who in ("anonymous", "outsider"):
        if who == "outsider":
            login_as(outsider)
        data = client.get("/api/v1/search?q=writinx").get_json()
        assert data["suggestion"] is None
        data = client.get("/api/v1/search?q=objectiox").get_json()
        assert data["suggestion"] is None
        page = client.get("/search?q=objectiox").get_data(as_text=True)
        assert "objection" not in page
        page = client.get("/search?q=pancel").get_data(as_text=True)
        assert "pastel" in page and "parcel" not in page
        client.post("/logout")
    login_as(insider)
    assert client.get("/api/v1/search?q=objectiox").get_json()["suggestion"] == "objection"
    page = client.get("/search?q=writinx").get_data(as_text=True)
    assert "writing" in page
