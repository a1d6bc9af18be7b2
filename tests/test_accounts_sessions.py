"""Logins that end on the server: logout, password change, log out everywhere, lifetimes.

Each test drives real browsers (Flask test clients with their own cookie jars)
against the real database; a "stolen" cookie is a copy of another browser's.
"""

from __future__ import annotations

import html
import re
import time
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from flask_login.utils import encode_cookie
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select, update

from normhub.accounts import logins, services
from normhub.accounts.models import LoginSession, User
from normhub.accounts.passwords import COMMON_PASSWORDS_FILE, common_passwords, is_common
from normhub.api import services as api_services
from normhub.api.models import ApiToken
from normhub.db import utcnow
from normhub.errors import ValidationFailed
from tests.conftest import login
from tests.factories import Factory

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
NEW_PASSWORD = "a brand new password"


@pytest.fixture(autouse=True)
def _client_is_firefox(client):
    client.environ_base["HTTP_USER_AGENT"] = FIREFOX


def browser(app, session, user_agent: str = FIREFOX):
    """Another browser: its own cookies, each request in its own app context (as ``client``)."""
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = user_agent
    send = other.open

    def open_in_own_context(*args, **kwargs):
        session.commit()
        with app.app_context():
            return send(*args, **kwargs)

    other.open = open_in_own_context
    return other


def copy_cookie(source, target) -> None:
    """``target`` gets ``source``'s session cookie, as a thief who copied it would."""
    cookie = source.get_cookie("session", domain="normhub.test")
    assert cookie is not None
    target.set_cookie("session", cookie.value, domain="normhub.test")


def logged_in(client) -> bool:
    response = client.get("/settings")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def login_rows(session, user) -> list[LoginSession]:
    session.rollback()  # a fresh snapshot, with the requests' commits
    session.expire_all()  # and no copies kept from earlier reads
    return list(session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)))


def test_a_copied_cookie_is_refused_after_its_browser_logs_out(app, session, factory, client):
    member = factory.user()
    login(client, member)
    thief = browser(app, session)
    copy_cookie(client, thief)
    assert logged_in(thief)  # the copy works while the login lasts
    [row] = login_rows(session, member)
    assert row.user_agent == FIREFOX

    assert client.post("/logout").status_code == 302
    assert login_rows(session, member) == []
    assert not logged_in(client)
    assert not logged_in(thief)
    # The refused cookie is emptied (all but the "please log in" note), not kept to try again.
    with thief.session_transaction() as cookie:
        assert set(cookie) <= {"_flashes"}


def test_logging_out_one_browser_leaves_the_others(app, session, factory, client):
    member = factory.user()
    login(client, member)
    phone = browser(app, session, IPHONE)
    login(phone, member)
    assert len(login_rows(session, member)) == 2
    client.post("/logout")
    assert not logged_in(client)
    assert logged_in(phone)
    assert [row.user_agent for row in login_rows(session, member)] == [IPHONE]


def test_a_password_change_ends_every_other_login_and_revokes_api_tokens(
    app, session, factory, client
):
    member = factory.user()
    _token, secret = api_services.create_token(session, member, "script")
    session.commit()
    login(client, member)
    phone = browser(app, session, IPHONE)
    login(phone, member)
    thief = browser(app, session)
    copy_cookie(client, thief)  # a copy of the very browser that changes the password
    assert logged_in(thief)
    assert _api_status(client, secret) == 404  # the token works: no such community

    changed = client.post(
        "/settings/password",
        data={
            "current_password": Factory.PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    page = client.get("/settings").get_data(as_text=True)
    assert "You are still logged in here; every other browser" in page
    assert "your API tokens are revoked" in page

    # This browser stays logged in, with a new login: even a copy of its old cookie is out.
    assert logged_in(client)
    assert not logged_in(phone)
    assert not logged_in(thief)
    [kept] = login_rows(session, member)
    assert kept.user_agent == FIREFOX
    assert session.scalar(select(ApiToken.revoked_at)) is not None
    assert _api_status(client, secret) == 401


def test_a_stolen_cookie_is_refused_after_a_password_change_elsewhere(
    app, session, factory, client
):
    # The owner notices something odd and changes the password from another browser.
    member = factory.user()
    login(client, member)
    thief = browser(app, session)
    copy_cookie(client, thief)
    assert logged_in(thief)
    phone = browser(app, session, IPHONE)
    login(phone, member)
    changed = phone.post(
        "/settings/password",
        data={
            "current_password": Factory.PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert not logged_in(thief)
    assert not logged_in(client)
    assert logged_in(phone)
    assert [row.user_agent for row in login_rows(session, member)] == [IPHONE]


def test_log_out_everywhere_ends_every_login_this_one_too(app, session, factory, client):
    member, someone_else = factory.user(), factory.user()
    login(client, member)
    phone = browser(app, session, IPHONE)
    login(phone, member)
    neighbour = browser(app, session)
    login(neighbour, someone_else)

    response = client.post("/settings/sessions/end-all")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "You are logged out everywhere" in client.get("/login").get_data(as_text=True)
    assert not logged_in(client)
    assert not logged_in(phone)
    assert login_rows(session, member) == []
    assert logged_in(neighbour)  # nobody else's login is touched
    assert len(login_rows(session, someone_else)) == 1


def test_the_sessions_page_lists_logins_and_ends_one(app, session, factory, client):
    member, other = factory.user(), factory.user()
    login(client, member)
    phone = browser(app, session, IPHONE)
    login(phone, member)
    stranger = browser(app, session)
    login(stranger, other)
    [stranger_login] = login_rows(session, other)

    assert 'href="/settings/sessions"' in client.get("/settings").get_data(as_text=True)
    page = client.get("/settings/sessions").get_data(as_text=True)
    assert "Firefox on Linux <strong>(this browser)</strong>" in page
    assert "Safari on iPhone" in page
    assert page.count('action="/settings/sessions/') == 3  # two logins, and "everywhere"

    phone_login = next(row for row in login_rows(session, member) if row.user_agent == IPHONE)
    # Someone else's login cannot be ended from here.
    assert client.post(f"/settings/sessions/{stranger_login.id}/end").status_code == 404
    assert logged_in(stranger)
    ended = client.post(f"/settings/sessions/{phone_login.id}/end")
    assert ended.status_code == 302
    assert not logged_in(phone)
    assert logged_in(client)
    # Ending this browser's own login is logging out.
    [mine] = login_rows(session, member)
    assert client.post(f"/settings/sessions/{mine.id}/end").status_code == 302
    assert not logged_in(client)


def test_a_login_ends_after_the_idle_lifetime(app, session, factory, client):
    member = factory.user()
    login(client, member)
    idle = timedelta(days=app.config["SESSION_IDLE_DAYS"])
    assert idle == timedelta(days=14)
    [row] = login_rows(session, member)

    _set(session, row, last_seen_at=utcnow() - idle + timedelta(minutes=1))
    assert logged_in(client)  # just inside: used, so refreshed
    [row] = login_rows(session, member)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)

    _set(session, row, last_seen_at=utcnow() - idle - timedelta(minutes=1))
    assert not logged_in(client)


def test_a_login_ends_after_the_absolute_lifetime_however_busy(app, session, factory, client):
    member = factory.user()
    login(client, member)
    absolute = timedelta(days=app.config["SESSION_MAX_DAYS"])
    assert absolute == timedelta(days=60)
    [row] = login_rows(session, member)
    _set(session, row, created_at=utcnow() - absolute + timedelta(minutes=1))
    assert logged_in(client)
    _set(session, row, created_at=utcnow() - absolute - timedelta(minutes=1))
    assert not logged_in(client)  # used a moment ago, but begun too long ago


@pytest.mark.parametrize("app_overrides", [{"SESSION_IDLE_DAYS": 1, "SESSION_MAX_DAYS": 2}])
def test_the_lifetimes_come_from_the_configuration(app, session, factory, client, app_overrides):
    member = factory.user()
    login(client, member)
    [row] = login_rows(session, member)
    _set(session, row, last_seen_at=utcnow() - timedelta(days=1, minutes=1))
    assert not logged_in(client)


def test_last_use_is_written_at_most_every_five_minutes(app, session, factory, client):
    member = factory.user()
    login(client, member)
    [row] = login_rows(session, member)
    four_minutes_ago = utcnow() - timedelta(minutes=4)
    _set(session, row, last_seen_at=four_minutes_ago)
    assert logged_in(client)
    assert login_rows(session, member)[0].last_seen_at == four_minutes_ago
    _set(session, row, last_seen_at=utcnow() - timedelta(minutes=6))
    # Any page refreshes it, also one that never asks who is there.
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert utcnow() - login_rows(session, member)[0].last_seen_at < timedelta(minutes=1)


def test_a_login_clears_out_logins_past_their_lifetimes(app, session, factory, client):
    member, other = factory.user(), factory.user()
    _old, _ = logins.start(session, other, "", now=utcnow() - timedelta(days=61))
    _idle, _ = logins.start(session, other, "", now=utcnow() - timedelta(days=15))
    _fine, _ = logins.start(session, other, "", now=utcnow() - timedelta(days=1))
    session.commit()
    login(client, member)
    assert len(login_rows(session, other)) == 1


def test_a_remember_me_cookie_logs_in_no_one(app, session, factory, client):
    member = factory.user()
    with app.test_request_context():
        remember = encode_cookie(str(member.id))  # signed with the app's key, as Flask-Login would
    client.set_cookie("remember_token", remember, domain="normhub.test")
    assert not logged_in(client)


def test_a_cookie_without_a_login_logs_in_no_one(app, session, factory, client):
    member = factory.user()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(member.id)  # what a cookie of an earlier NormHub held
        cookie["_fresh"] = True
    assert not logged_in(client)
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(member.id)
        cookie["login"] = "made-up"
    assert not logged_in(client)


def test_a_login_secret_works_only_for_its_own_user(app, session, factory, client):
    member, other = factory.user(), factory.user()
    login(client, member)
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(other.id)  # a signed cookie cannot be edited, but if it were
    assert not logged_in(client)


def test_logging_in_again_starts_a_new_login(app, session, factory, client):
    member = factory.user()
    login(client, member)
    [first] = login_rows(session, member)
    first_secret_hash = first.secret_hash
    login(client, member)
    [second] = login_rows(session, member)  # the first one ended: one login per browser
    assert second.secret_hash != first_secret_hash


# -- CSRF: rotated at login, ended with the login, an expired one keeps the text -----------

CSRF_ON = pytest.mark.parametrize("app_overrides", [{"WTF_CSRF_ENABLED": True}])
REFUSED = "Your form expired or was sent from elsewhere"


def form_token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def login_with_token(client, user) -> None:
    token = form_token(client.get("/login").get_data(as_text=True))
    data = {"email": user.email, "password": Factory.PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302


def signed_long_ago(app, raw: str, hours: float) -> str:
    """A form token for this raw CSRF secret, as if the page had been served ``hours`` ago."""

    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - hours * 3600)

    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token", signer=Earlier).dumps(raw)


def display_name(session, user) -> str:
    session.rollback()
    return session.scalar(select(User.display_name).where(User.id == user.id))


@CSRF_ON
def test_login_rotates_the_cookie_and_its_csrf_secret(app, session, factory, client, app_overrides):
    member = factory.user("Mia")
    before_login = form_token(client.get("/login").get_data(as_text=True))
    planted = client.get_cookie("session", domain="normhub.test").value
    with client.session_transaction() as cookie:
        secret_before = cookie["csrf_token"]
    data = {"email": member.email, "password": Factory.PASSWORD, "csrf_token": before_login}
    assert client.post("/login", data=data).status_code == 302
    with client.session_transaction() as cookie:
        assert cookie.get("csrf_token") != secret_before
        assert cookie["login"] and cookie["_user_id"] == str(member.id)

    # A token from before the login is refused after it.
    forged = client.post(
        "/settings", data={"display_name": "Hijacked", "bio": "", "csrf_token": before_login}
    )
    assert forged.status_code == 400
    assert REFUSED in forged.get_data(as_text=True)
    assert display_name(session, member) == "Mia"
    # Whoever planted the pre-login cookie (session fixation) is not logged in by it.
    fixer = browser(app, session)
    fixer.set_cookie("session", planted, domain="normhub.test")
    assert not logged_in(fixer)
    # A token from a page after the login works.
    token = form_token(client.get("/settings").get_data(as_text=True))
    saved = client.post(
        "/settings", data={"display_name": "Mia B.", "bio": "", "csrf_token": token}
    )
    assert saved.status_code == 302
    assert display_name(session, member) == "Mia B."


@CSRF_ON
def test_a_form_token_dies_with_its_login(app, session, factory, client, app_overrides):
    member = factory.user("Noor")
    login_with_token(client, member)
    token = form_token(client.get("/settings").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    with client.session_transaction() as cookie:
        assert "csrf_token" not in cookie
    login_with_token(client, member)
    stale = client.post("/settings", data={"display_name": "Stale", "bio": "", "csrf_token": token})
    assert stale.status_code == 400
    assert display_name(session, member) == "Noor"


def hidden_fields(page: str) -> tuple[str, list[tuple[str, str]]]:
    form = re.search(r'<form method="post" action="([^"]*)">(.*?)</form>', page, re.S)
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2))
    return html.unescape(form.group(1)), [(html.unescape(n), html.unescape(v)) for n, v in fields]


@CSRF_ON
def test_an_expired_form_token_keeps_what_was_typed(app, session, factory, client, app_overrides):
    member = factory.user("Ola")
    login_with_token(client, member)
    client.get("/settings")
    with client.session_transaction() as cookie:
        raw = cookie["csrf_token"]
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 12 * 3600
    bio = "A long text I spent the evening on.\nIt has <b>markup</b> & two lines."

    # Eleven hours: still good.
    fine = client.post(
        "/settings",
        data={"display_name": "Ola", "bio": "", "csrf_token": signed_long_ago(app, raw, 11)},
    )
    assert fine.status_code == 302

    expired = client.post(
        "/settings",
        data={"display_name": "Ola N.", "bio": bio, "csrf_token": signed_long_ago(app, raw, 13)},
    )
    assert expired.status_code == 400
    page = expired.get_data(as_text=True)
    assert "This form was open too long" in page
    assert "Nothing was saved" in page
    assert "It has &lt;b&gt;markup&lt;/b&gt; &amp; two lines." in page  # shown, escaped
    assert "<b>markup</b>" not in page
    assert display_name(session, member) == "Ola"

    action, fields = hidden_fields(page)
    assert action == "/settings"
    assert ("bio", bio) in fields and ("display_name", "Ola N.") in fields
    resent = client.post(action, data=dict(fields))
    assert resent.status_code == 302
    assert display_name(session, member) == "Ola N."


@CSRF_ON
def test_an_expired_token_from_another_browser_is_only_refused(
    app, session, factory, client, app_overrides
):
    member = factory.user("Pat")
    login_with_token(client, member)
    attacker = browser(app, session)
    attacker.get("/login")
    with attacker.session_transaction() as cookie:
        attackers_secret = cookie["csrf_token"]
    forged = client.post(
        "/settings",
        data={
            "display_name": "Pwned",
            "bio": "attacker's words",
            "csrf_token": signed_long_ago(app, attackers_secret, 13),
        },
    )
    assert forged.status_code == 400
    page = forged.get_data(as_text=True)
    assert REFUSED in page
    assert "attacker" not in page and "Send again" not in page
    assert display_name(session, member) == "Pat"


@CSRF_ON
def test_an_expired_login_form_never_writes_the_password_back(
    app, session, factory, client, app_overrides
):
    member = factory.user()
    client.get("/login")
    with client.session_transaction() as cookie:
        raw = cookie["csrf_token"]
    response = client.post(
        "/login",
        data={
            "email": member.email,
            "password": Factory.PASSWORD,
            "csrf_token": signed_long_ago(app, raw, 13),
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Send again" in page
    assert member.email in page
    assert Factory.PASSWORD not in page
    _action, fields = hidden_fields(page)
    assert [name for name, _ in fields] == ["csrf_token", "email"]


# -- Passwords ------------------------------------------------------------------------------


def test_common_passwords_are_refused(session, factory, client):
    assert 3000 <= len(common_passwords()) <= 10000
    assert len(COMMON_PASSWORDS_FILE.read_text().splitlines()) <= 10000
    for password in ("password1234", "Qwertyuiop", "1q2w3e4r5t", "Pass Word 1234", "iloveyou123"):
        assert is_common(password), password
    assert not is_common(Factory.PASSWORD)
    with pytest.raises(ValidationFailed) as refused:
        services.register_user(session, "ann@example.org", "Ann", "Sunshine123")
    assert refused.value.field == "password"
    member = factory.user()
    login(client, member)
    response = client.post(
        "/settings/password",
        data={
            "current_password": Factory.PASSWORD,
            "new_password": "football123",
            "confirm": "football123",
        },
    )
    assert response.status_code == 400
    assert "list of passwords people use most" in response.get_data(as_text=True)
    assert services.authenticate(session, member.email, Factory.PASSWORD) is not None


def test_a_login_rehashes_a_password_hashed_with_other_parameters(session, factory, client):
    member = factory.user()
    older = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    session.execute(
        update(User).where(User.id == member.id).values(password_hash=older.hash(Factory.PASSWORD))
    )
    session.commit()
    assert services._hasher.check_needs_rehash(older.hash("x"))
    login(client, member)
    session.rollback()
    stored = session.scalar(select(User.password_hash).where(User.id == member.id))
    assert "m=2048,t=2" not in stored
    assert not services._hasher.check_needs_rehash(stored)
    assert services.authenticate(session, member.email, Factory.PASSWORD) is not None


def _set(session, row: LoginSession, **values) -> None:
    session.execute(update(LoginSession).where(LoginSession.id == row.id).values(**values))
    session.commit()


def _api_status(client, secret: str) -> int:
    headers = {"Authorization": f"Bearer {secret}"}
    return client.get("/api/v1/communities/nowhere/norms/x/coverage", headers=headers).status_code
