"""Digest settings, previews and one-click unsubscribe, through the Flask test client."""

from __future__ import annotations

import re

from sqlalchemy import select

from normhub.digest.builder import preview_digest
from normhub.digest.links import Links
from normhub.digest.models import DigestPreference
from normhub.digest.preferences import make_unsubscribe_token


def frequency(session, user, community) -> str:
    # A column query reads the database, not the identity map; committing ends
    # the read without expiring the test's objects (SQLite: frees the lock).
    stored = session.scalar(
        select(DigestPreference.frequency).where(
            DigestPreference.user_id == user.id, DigestPreference.community_id == community.id
        )
    )
    session.commit()
    return stored or "weekly (default)"


def test_settings_page_lists_active_communities_with_weekly_default(
    session, factory, client, login_as
):
    member = factory.user("Mira")
    town, club, left = factory.community(), factory.community(), factory.community()
    for community in (town, club, left):
        factory.member(community, member)
    from normhub.communities.services import leave

    leave(session, left, member)
    session.commit()
    login_as(member)
    page = client.get("/settings/digest")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'<label for="community_{town.id}">Digest from {town.name}</label>' in html
    assert f"community_{club.id}" in html and f"community_{left.id}" not in html
    selected = re.findall(r'<option selected value="(\w+)">', html)
    assert selected == ["weekly", "weekly"]

    saved = client.post(
        "/settings/digest",
        data={f"community_{town.id}": "daily", f"community_{club.id}": "off"},
        follow_redirects=True,
    )
    assert "Digest settings saved." in saved.get_data(as_text=True)
    assert frequency(session, member, town) == "daily"
    assert frequency(session, member, club) == "off"

    refused = client.post("/settings/digest", data={f"community_{town.id}": "hourly"})
    assert refused.status_code == 400
    assert frequency(session, member, town) == "daily"


def test_settings_requires_login(client):
    response = client.get("/settings/digest")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_settings_form_needs_csrf_token(app, session, factory, client, login_as):
    member = factory.user()
    town = factory.community()
    factory.member(town, member)
    login_as(member)
    app.config["WTF_CSRF_ENABLED"] = True
    refused = client.post("/settings/digest", data={f"community_{town.id}": "off"})
    assert refused.status_code == 400
    assert frequency(session, member, town) == "weekly (default)"


def test_preview_shows_the_next_digest_without_recording(session, factory, client, login_as):
    town = factory.community()
    reader = factory.member(town, name="Reader")
    factory.norm(town, title="Leave the kitchen tidy")
    login_as(reader)
    page = client.get("/settings/digest/preview")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Leave the kitchen tidy" in html and "New for discussion" in html
    assert f"Your NormHub digest from {town.name} — 1 norm needs you" in html
    from normhub.digest.models import DigestSend
    from normhub.exposure.models import ExposureEvent

    assert session.scalar(select(DigestSend.id)) is None
    # Only the author's own exposure (writing it) is in the ledger.
    assert session.scalar(select(ExposureEvent.id).where(ExposureEvent.kind != "authored")) is None
    daily = client.get("/settings/digest/preview?period=daily").get_data(as_text=True)
    # the member's preference is weekly, so the daily digest is empty
    assert "Nothing new for the daily digest" in daily


def test_steward_preview_shows_only_stewarded_communities(session, factory, client, login_as):
    town, club = factory.community(), factory.community(visibility="members")
    member = factory.member(town, name="Max")
    factory.member(club, member)
    factory.norm(town, title="Town rule on bicycles")
    factory.norm(club, title="Club rule nobody else may see")
    steward = factory.member(town, role="steward", name="Stew")
    login_as(steward)
    page = client.get(f"/c/{town.slug}/members/{member.id}/digest-preview")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Digest preview for Max" in html and "Town rule on bicycles" in html
    assert "Club rule nobody else may see" not in html


def test_steward_preview_refused_to_plain_members_and_for_non_members(
    session, factory, client, login_as
):
    town = factory.community()
    member = factory.member(town)
    other = factory.member(town)
    outsider = factory.user()
    steward = factory.member(town, role="steward")
    login_as(other)
    assert client.get(f"/c/{town.slug}/members/{member.id}/digest-preview").status_code == 403
    client.post("/logout")
    login_as(steward)
    assert client.get(f"/c/{town.slug}/members/{outsider.id}/digest-preview").status_code == 404


def test_one_click_unsubscribe_post_turns_the_community_off(app, session, factory, client):
    town, other = factory.community(), factory.community()
    member = factory.member(town)
    factory.member(other, member)
    token = make_unsubscribe_token(app.config["SECRET_KEY"], member.id, [town.id])
    # what a mail client sends: no session, no CSRF token
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)
    assert frequency(session, member, town) == "off"
    assert frequency(session, member, other) == "weekly (default)"


def test_unsubscribe_get_only_asks(app, session, factory, client):
    town = factory.community()
    member = factory.member(town)
    token = make_unsubscribe_token(app.config["SECRET_KEY"], member.id, [town.id])
    page = client.get(f"/unsubscribe/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert town.name in html and f'action="/unsubscribe/{token}"' in html
    assert 'method="post"' in html
    assert frequency(session, member, town) == "weekly (default)"


def test_invalid_or_expired_token_is_a_clear_400_and_changes_nothing(app, session, factory, client):
    town = factory.community()
    member = factory.member(town)
    token = make_unsubscribe_token(app.config["SECRET_KEY"], member.id, [town.id])
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for method in (client.get, client.post):
        response = method(f"/unsubscribe/{tampered}")
        assert response.status_code == 400
        assert "This unsubscribe link is not valid" in response.get_data(as_text=True)
    forged = make_unsubscribe_token("some other secret", member.id, [town.id])
    assert client.post(f"/unsubscribe/{forged}").status_code == 400

    from itsdangerous import URLSafeTimedSerializer

    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="digest-unsubscribe")
    import time

    real_time = time.time
    try:
        time.time = lambda: real_time() - 61 * 24 * 3600
        expired = old.dumps({"u": member.id, "c": [town.id]})
    finally:
        time.time = real_time
    response = client.post(f"/unsubscribe/{expired}")
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert frequency(session, member, town) == "weekly (default)"


def test_unsubscribe_link_from_a_preview_works(app, session, factory, client):
    town = factory.community()
    member = factory.member(town)
    factory.norm(town)
    digest = preview_digest(session, Links(app), member, "weekly")
    assert digest.footers and digest.footers[0].community.id == town.id
    session.rollback()  # end the read so the app's request may write
    path = digest.footers[0].unsubscribe_url.removeprefix("http://normhub.test")
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 200
    assert frequency(session, member, town) == "off"
