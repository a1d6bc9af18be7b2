"""Personal API tokens: the settings page, hashed storage, and bearer authentication."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from normhub.api import services
from normhub.api.models import ApiToken
from normhub.db import utcnow
from normhub.errors import NotFound, ValidationFailed
from tests.factories import Factory

TOKEN_RE = re.compile(r'value="(nh_[A-Za-z0-9_-]{20,})"')


def create_through_page(client, name: str) -> str:
    created = client.post("/settings/tokens", data={"name": name})
    assert created.status_code == 303, created.get_data(as_text=True)[:500]
    response = client.get(created.headers["Location"])
    assert response.headers["Cache-Control"] == "no-store"
    match = TOKEN_RE.search(response.get_data(as_text=True))
    assert match, "the new token is shown once after creation"
    return match.group(1)


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


# -- Services -----------------------------------------------------------------


def test_create_token_stores_only_the_hash(factory, session):
    user = factory.user()
    token, secret = services.create_token(session, user, "  laptop   script ")
    session.commit()
    assert secret.startswith("nh_") and len(secret) > 40
    assert token.name == "laptop script"
    assert token.prefix == secret[:8]
    assert token.token_hash == services.hash_secret(secret) != secret
    # No column of any token row holds the secret.
    rows = session.execute(text("SELECT * FROM api_tokens")).all()
    assert rows and all(secret not in str(value) for row in rows for value in row)


def test_create_token_requires_a_short_name(factory, session):
    user = factory.user()
    with pytest.raises(ValidationFailed) as blank:
        services.create_token(session, user, "   ")
    assert blank.value.field == "name"
    with pytest.raises(ValidationFailed):
        services.create_token(session, user, "x" * 81)
    token, _ = services.create_token(session, user, "x" * 80)
    assert len(token.name) == 80


def test_authenticate_and_revoke(factory, session):
    user = factory.user()
    token, secret = services.create_token(session, user, "ci")
    session.commit()
    found = services.authenticate_token(session, secret)
    assert found is not None and found.id == token.id and found.user.id == user.id
    assert services.authenticate_token(session, secret + "x") is None
    assert services.authenticate_token(session, "") is None
    assert services.authenticate_token(session, "nh_" + "a" * 500) is None

    services.revoke_token(session, user, token.id)
    session.commit()
    assert token.revoked_at is not None
    assert services.authenticate_token(session, secret) is None


def test_cannot_revoke_someone_elses_token(factory, session):
    owner, other = factory.user(), factory.user()
    token, _ = services.create_token(session, owner, "mine")
    session.commit()
    with pytest.raises(NotFound):
        services.revoke_token(session, other, token.id)
    assert token.revoked_at is None


def test_touch_writes_at_most_once_a_minute(factory, session):
    user = factory.user()
    token, _ = services.create_token(session, user, "ci")
    session.commit()

    def stored_last_use():
        return session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token.id))

    start = utcnow()
    assert services.touch_token(session, token, start) is True
    assert stored_last_use() == start
    recent = services.TokenUse(token.id, start)
    assert services.touch_token(session, recent, start + timedelta(seconds=59)) is False
    assert stored_last_use() == start
    later = start + timedelta(seconds=61)
    assert services.touch_token(session, recent, later) is True
    assert stored_last_use() == later


def test_list_tokens_is_per_user_usable_first(factory, session):
    user, other = factory.user(), factory.user()
    old, _ = services.create_token(session, user, "old")
    revoked, _ = services.create_token(session, user, "revoked")
    new, _ = services.create_token(session, user, "new")
    services.create_token(session, other, "not mine")
    services.revoke_token(session, user, revoked.id)
    session.commit()
    assert [t.name for t in services.list_tokens(session, user)] == ["new", "old", "revoked"]


# -- Settings page --------------------------------------------------------------


def test_tokens_page_needs_login(client):
    response = client.get("/settings/tokens")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_settings_links_to_tokens_page(factory, login_as, client):
    login_as(factory.user())
    assert 'href="/settings/tokens"' in client.get("/settings").get_data(as_text=True)


def test_create_list_and_revoke_through_the_page(factory, session, login_as, client):
    user = factory.user()
    login_as(user)
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert "You have no tokens yet." in page
    assert '<label for="name">Token name</label>' in page

    secret = create_through_page(client, "Coverage dashboard")

    # Listed by name and prefix; the full secret is never shown again.
    listing = client.get("/settings/tokens").get_data(as_text=True)
    assert "Coverage dashboard" in listing
    assert secret[:8] in listing and secret not in listing
    assert "Never" in listing  # not used yet

    stored = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    assert [t.token_hash for t in stored] == [services.hash_secret(secret)]
    raw = session.execute(text("SELECT token_hash, prefix, name FROM api_tokens")).all()
    assert all(secret not in value for row in raw for value in row)
    token_id = stored[0].id
    session.rollback()  # no transaction of ours may hold SQLite's lock during the requests

    # The token works, then is revoked through the page, then stops working.
    works = client.get("/api/v1/communities/nowhere/norms/x/coverage", headers=bearer(secret))
    assert works.status_code == 404  # past authentication: the community is unknown
    response = client.post(f"/settings/tokens/{token_id}/revoke", follow_redirects=True)
    assert response.status_code == 200
    assert "is revoked" in response.get_data(as_text=True)
    assert "Revoked " in response.get_data(as_text=True)
    session.rollback()  # a fresh snapshot, with the request's commit
    assert session.get(ApiToken, token_id).revoked_at is not None
    session.rollback()
    refused = client.get("/api/v1/communities/nowhere/norms/x/coverage", headers=bearer(secret))
    assert refused.status_code == 401


def test_create_rejects_missing_and_long_names(factory, session, login_as, client):
    login_as(factory.user())
    missing = client.post("/settings/tokens", data={"name": ""})
    assert missing.status_code == 400
    assert "Give the token a name" in missing.get_data(as_text=True)
    too_long = client.post("/settings/tokens", data={"name": "n" * 81})
    assert too_long.status_code == 400
    assert "at most 80 characters" in too_long.get_data(as_text=True)
    assert session.scalar(select(ApiToken.id)) is None


def test_revoking_another_users_token_is_404(factory, session, login_as, client):
    owner = factory.user()
    token, _ = services.create_token(session, owner, "owner's")
    session.commit()
    login_as(factory.user())
    assert client.post(f"/settings/tokens/{token.id}/revoke").status_code == 404
    session.rollback()  # a fresh snapshot, with the request's commit
    assert session.get(ApiToken, token.id).revoked_at is None


@pytest.mark.parametrize("app_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_token_forms_need_csrf(factory, session, client, app_overrides):
    user = factory.user()
    token, _ = services.create_token(session, user, "keep")
    session.commit()
    login_page = client.get("/login").get_data(as_text=True)
    login_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    logged_in = client.post(
        "/login",
        data={"email": user.email, "password": Factory.PASSWORD, "csrf_token": login_token},
    )
    assert logged_in.status_code == 302
    assert client.post("/settings/tokens", data={"name": "sneaky"}).status_code == 400
    assert client.post(f"/settings/tokens/{token.id}/revoke").status_code == 400
    session.rollback()  # a fresh snapshot, with the request's commit
    assert session.get(ApiToken, token.id).revoked_at is None
    assert session.scalars(select(ApiToken.name)).all() == ["keep"]
    session.rollback()
    # With the page's own CSRF token the same form works.
    page = client.get("/settings/tokens").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    created = client.post("/settings/tokens", data={"name": "fine", "csrf_token": csrf})
    assert created.status_code == 303


# -- Bearer authentication --------------------------------------------------------


def test_anonymous_api_request_is_401_with_challenge(client):
    response = client.get("/api/v1/communities/any/norms/any/coverage")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.get_json()
    assert body["error"]["status"] == 401
    assert "Bearer" in body["error"]["message"]


@pytest.mark.parametrize(
    "header",
    ["Bearer nh_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "nh_missing_scheme"],
)
def test_bad_authorization_header_is_401(client, header):
    response = client.get(
        "/api/v1/communities/any/norms/any/coverage", headers={"Authorization": header}
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.get_json()["error"]["status"] == 401


def test_valid_token_gets_past_authentication(factory, session, client):
    user = factory.user()
    _, secret = services.create_token(session, user, "ci")
    session.commit()
    response = client.get("/api/v1/communities/nowhere/norms/x/coverage", headers=bearer(secret))
    # Authenticated, so the answer is about the community, not about credentials.
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "No such community."


def test_bearer_request_sets_no_session_cookie(factory, session, client):
    user = factory.user()
    _, secret = services.create_token(session, user, "ci")
    session.commit()
    response = client.get("/api/v1/communities/nowhere/norms/x/coverage", headers=bearer(secret))
    assert "Set-Cookie" not in response.headers


def test_unknown_api_route_is_json_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"]["status"] == 404


def test_api_post_is_json_405(client):
    response = client.post("/api/v1/openapi.json")
    assert response.status_code == 405
    assert response.get_json()["error"]["status"] == 405


# -- Expiry, and revocation with the password ---------------------------------------------


@pytest.mark.parametrize("days", [30, 90, 365])
def test_a_token_works_for_the_days_chosen(factory, session, days):
    user = factory.user()
    before = utcnow()
    token, secret = services.create_token(session, user, "ci", days)
    session.commit()
    assert token.expires_at - before - timedelta(days=days) < timedelta(seconds=5)
    assert token.is_active
    assert services.authenticate_token(session, secret) is not None


def test_other_lifetimes_and_the_default(factory, session):
    user = factory.user()
    with pytest.raises(ValidationFailed) as refused:
        services.create_token(session, user, "forever", 36500)
    assert refused.value.field == "days"
    token, _ = services.create_token(session, user, "default")
    assert timedelta(days=89) < token.expires_at - utcnow() <= timedelta(days=90)


def test_an_expired_token_is_refused_everywhere_and_listed_as_expired(
    factory, session, login_as, client
):
    user = factory.user()
    token, secret = services.create_token(session, user, "old script")
    session.commit()
    assert (
        client.get(
            "/api/v1/communities/nowhere/norms/x/coverage", headers=bearer(secret)
        ).status_code
        == 404
    )
    check = "/api/v1/communities/nowhere/norms/x/exposure/1"
    assert client.get(check, headers=bearer(secret)).status_code == 404
    token.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert services.authenticate_token(session, secret) is None
    for path in ("/api/v1/communities/nowhere/norms/x/coverage", check):
        refused = client.get(path, headers=bearer(secret))
        assert refused.status_code == 401
        assert "expired" in refused.get_json()["error"]["message"]
    login_as(user)
    listing = client.get("/settings/tokens").get_data(as_text=True)
    row = re.search(r"<tr[^>]*>\s*<td[^>]*>old script</td>.*?</tr>", listing, re.S).group(0)
    assert 'class="muted"' in row and "Expired" in row and "Revoke" not in row


def test_the_page_offers_the_lifetimes_and_lists_the_expiry(factory, session, login_as, client):
    user = factory.user()
    login_as(user)
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="90"|<input[^>]*value="90"[^>]*checked', page)
    assert "1 year" in page and "30 days" in page
    assert "every token\nis revoked when your password is changed or reset" in page
    response = client.post(
        "/settings/tokens", data={"name": "yearly", "days": "365"}, follow_redirects=True
    )
    assert response.status_code == 200
    session.rollback()
    token = session.scalar(select(ApiToken).where(ApiToken.name == "yearly"))
    assert timedelta(days=364) < token.expires_at - utcnow() <= timedelta(days=365)
    expires = f'<td data-label="Expires">{token.expires_at:%Y-%m-%d %H:%M} UTC</td>'
    assert expires in response.get_data(as_text=True)
    bad = client.post("/settings/tokens", data={"name": "odd", "days": "7"})
    assert bad.status_code == 400
    assert "Not a valid choice" in bad.get_data(as_text=True)


def test_revoke_all_tokens_leaves_other_users_alone(factory, session):
    user, other = factory.user(), factory.user()
    services.create_token(session, user, "one")
    services.create_token(session, user, "two")
    kept, _ = services.create_token(session, other, "theirs")
    session.commit()
    assert services.revoke_all_tokens(session, user) == 2
    session.commit()
    assert [t.is_active for t in services.list_tokens(session, user)] == [False, False]
    assert session.get(ApiToken, kept.id).is_active
