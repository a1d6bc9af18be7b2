"""Accounts: registration, login and logout, profile and password, the member page."""

from __future__ import annotations

import re

import pytest

from normhub.accounts import services
from normhub.accounts.models import User
from normhub.accounts.views import safe_next
from normhub.errors import Conflict, ValidationFailed
from normhub.forum import services as forum_services
from normhub.responses.services import record_response
from tests.conftest import login
from tests.factories import Factory

GOOD_PASSWORD = "a long enough password"


def _register(client, **changes):
    data = {
        "email": "new.person@example.org",
        "display_name": "New Person",
        "password": GOOD_PASSWORD,
        "confirm": GOOD_PASSWORD,
    }
    data.update(changes)
    return client.post("/register", data=data)


# --- services -------------------------------------------------------------------------------


def test_register_user_normalises_email_and_rejects_duplicates(session):
    user = services.register_user(session, "  Ada@Example.ORG ", "Ada  Lovelace", GOOD_PASSWORD)
    session.commit()
    assert user.email == "ada@example.org"
    assert user.display_name == "Ada Lovelace"
    with pytest.raises(Conflict) as excinfo:
        services.register_user(session, "ADA@example.org", "Another", GOOD_PASSWORD)
    assert excinfo.value.field == "email"


@pytest.mark.parametrize(
    ("email", "name", "password", "field"),
    [
        ("not-an-email", "Ann", GOOD_PASSWORD, "email"),
        ("ann@example.org", "Ann", "short", "password"),
        ("ann@example.org", "   ", GOOD_PASSWORD, "display_name"),
    ],
)
def test_register_user_validation(session, email, name, password, field):
    with pytest.raises(ValidationFailed) as excinfo:
        services.register_user(session, email, name, password)
    assert excinfo.value.field == field


def test_authenticate_same_answer_for_unknown_email_and_wrong_password(session, factory):
    user = factory.user()
    assert services.authenticate(session, user.email, Factory.PASSWORD).id == user.id
    assert services.authenticate(session, user.email.upper(), Factory.PASSWORD).id == user.id
    assert services.authenticate(session, user.email, "wrong password!") is None
    assert services.authenticate(session, "nobody@example.org", Factory.PASSWORD) is None


def test_change_password_checks_current_one(session, factory):
    user = factory.user()
    with pytest.raises(ValidationFailed) as excinfo:
        services.change_password(session, user, "not my password", "brand new password")
    assert excinfo.value.field == "current_password"
    services.change_password(session, user, Factory.PASSWORD, "brand new password")
    session.commit()
    assert services.authenticate(session, user.email, "brand new password") is not None
    assert services.authenticate(session, user.email, Factory.PASSWORD) is None


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/c/tea", "/c/tea"),
        ("/c/tea?page=2", "/c/tea?page=2"),
        ("https://evil.example/", None),
        ("//evil.example/path", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_next_only_allows_local_paths(target, expected):
    assert safe_next(target) == expected


# --- pages ------------------------------------------------------------------------------------


def test_register_page_creates_an_unconfirmed_account_and_says_to_check_the_inbox(client, session):
    assert client.get("/register").status_code == 200
    response = _register(client)
    assert response.status_code == 200
    assert "Check your inbox: we've sent a link to finish signing up to" in response.get_data(
        as_text=True
    )
    user = session.query(User).filter_by(email="new.person@example.org").one()
    assert user.display_name == "New Person"
    assert user.email_verified_at is None
    # Not logged in by registering (a taken address must get the same answer):
    # the password logs in, before or after the address is confirmed.
    assert client.get("/settings").status_code == 302
    login(client, user, GOOD_PASSWORD)
    assert client.get("/settings").status_code == 200


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "not an email"}, "email address"),
        ({"password": "short", "confirm": "short"}, "Password must be 10"),
        ({"confirm": "something different"}, "The passwords do not match."),
        ({"display_name": ""}, "This field is required."),
    ],
)
def test_register_page_shows_validation_messages(client, session, changes, message):
    response = _register(client, **changes)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.query(User).count() == 0


def test_register_page_makes_no_second_account_for_a_taken_address(client, factory, session):
    existing = factory.user(email="taken@example.org")
    response = _register(client, email=existing.email.upper())
    assert response.status_code == 200
    assert "already exists" not in response.get_data(as_text=True)
    assert session.query(User).filter_by(email="taken@example.org").count() == 1


def test_login_redirects_to_safe_next_only(client, factory):
    user = factory.user()
    data = {"email": user.email, "password": Factory.PASSWORD}
    response = client.post("/login?next=/settings", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/settings")
    client.post("/logout")
    response = client.post("/login?next=https://evil.example/", data=data)
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]
    assert response.headers["Location"] in ("/", "http://normhub.test/")


def test_login_gives_same_message_for_wrong_password_and_unknown_email(client, factory):
    user = factory.user()
    wrong = client.post("/login", data={"email": user.email, "password": "not the password"})
    unknown = client.post(
        "/login", data={"email": "ghost@example.org", "password": Factory.PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 400
    message = "That email and password do not match an account."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert client.get("/settings").status_code == 302  # still anonymous


def test_logout_needs_post_and_ends_the_session(client, factory, login_as):
    login_as(factory.user())
    assert client.get("/logout").status_code == 405
    assert client.get("/settings").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302
    settings = client.get("/settings")
    assert settings.status_code == 302
    assert "/login" in settings.headers["Location"]


def test_settings_edits_profile(client, factory, login_as, session):
    user = factory.user("Grace")
    login_as(user)
    response = client.post(
        "/settings", data={"display_name": "Grace Hopper", "bio": "I *like* compilers."}
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(User, user.id).display_name == "Grace Hopper"
    page = client.get(f"/members/{user.handle}").get_data(as_text=True)
    assert "Grace Hopper" in page
    assert "<em>like</em>" in page


def test_settings_rejects_blank_name(client, factory, login_as, session):
    user = factory.user("Grace")
    login_as(user)
    response = client.post("/settings", data={"display_name": "", "bio": ""})
    assert response.status_code == 400
    session.expire_all()
    assert session.get(User, user.id).display_name == "Grace"


def test_settings_changes_password(client, factory, login_as):
    user = factory.user()
    login_as(user)
    wrong = client.post(
        "/settings/password",
        data={
            "current_password": "not my password",
            "new_password": "a brand new password",
            "confirm": "a brand new password",
        },
    )
    assert wrong.status_code == 400
    assert "Current password is wrong." in wrong.get_data(as_text=True)
    ok = client.post(
        "/settings/password",
        data={
            "current_password": Factory.PASSWORD,
            "new_password": "a brand new password",
            "confirm": "a brand new password",
        },
    )
    assert ok.status_code == 302
    client.post("/logout")
    assert (
        client.post(
            "/login", data={"email": user.email, "password": "a brand new password"}
        ).status_code
        == 302
    )


def test_settings_links_only_to_existing_pages(app, client, factory, login_as):
    login_as(factory.user())
    page = client.get("/settings").get_data(as_text=True)
    for endpoint, path in (
        ("api.tokens", "/settings/tokens"),
        ("digest.preferences", "/settings/digest"),
    ):
        assert (f'href="{path}"' in page) == (endpoint in app.view_functions)


def test_settings_requires_login(client):
    response = client.get("/settings")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_member_page_lists_only_what_the_viewer_may_see(client, factory, login_as, session):
    author = factory.user("Author")
    public = factory.community()
    hidden = factory.community(visibility="members")
    factory.member(public, author)
    factory.member(hidden, author)
    factory.norm(public, author, title="A public proposal")
    secret_norm = factory.norm(hidden, author, title="A secret proposal")
    record_response(session, secret_norm, author, "yes", "endorse")
    session.commit()

    anonymous = client.get(f"/members/{author.handle}").get_data(as_text=True)
    assert "A public proposal" in anonymous
    assert "A secret proposal" not in anonymous
    assert hidden.name not in anonymous

    insider = factory.member(hidden)
    login_as(insider)
    page = client.get(f"/members/{author.handle}").get_data(as_text=True)
    assert "A public proposal" in page
    assert page.count("A secret proposal") == 2  # proposed and responded to


def test_member_page_404_for_unknown_user(client):
    assert client.get("/members/999999").status_code == 404
    assert client.get("/members/nosuchhandle").status_code == 404


def test_responded_norms_service_keeps_latest_response_per_norm(session, factory):
    community = factory.community()
    reader = factory.member(community)
    norm = factory.norm(community)
    record_response(session, norm, reader, "partly", "undecided")
    latest = record_response(session, norm, reader, "yes", "endorse")
    session.commit()
    rows = forum_services.responded_norms(session, reader, reader)
    assert [(n.id, r.id) for n, r in rows] == [(norm.id, latest.id)]
    assert forum_services.responded_norms(session, reader, None) == []


def test_register_form_marks_only_invalid_fields(client):
    blank = client.get("/register").get_data(as_text=True)
    assert "aria-invalid" not in blank
    assert 'for="email"' in blank and 'aria-describedby="email-hint"' in blank
    failed = _register(client, email="not an email").get_data(as_text=True)
    email_input = re.search(r'<input[^>]*name="email"[^>]*>', failed).group(0)
    assert 'aria-invalid="true"' in email_input
    name_input = re.search(r'<input[^>]*name="display_name"[^>]*>', failed).group(0)
    assert "aria-invalid" not in name_input


def test_session_cookie_is_verified_and_a_forged_one_is_anonymous(factory, client, login_as):
    user = factory.user()
    login_as(user)
    assert client.get("/settings/tokens").status_code == 200
    cookie = client.get_cookie("session", domain="normhub.test")
    assert cookie is not None
    forged = cookie.value[:-4] + ("AAAA" if not cookie.value.endswith("AAAA") else "BBBB")
    client.set_cookie("session", forged, domain="normhub.test")
    response = client.get("/settings/tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_visit_without_a_cookie_is_answered_without_one(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
