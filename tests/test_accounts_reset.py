"""Forgot password: the same answer for every address, a link by email, one use, one hour."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from normhub import tokens
from normhub.accounts import reset, services
from normhub.accounts.models import LoginSession
from normhub.api import services as api_services
from normhub.api.models import ApiToken
from normhub.jobs.worker import running_worker
from normhub.mail.queue import SENT, QueuedEmail
from tests.conftest import login
from tests.factories import Factory
from tests.jobs_helpers import fresh, wait_until
from tests.smtp import parts
from tests.test_accounts_sessions import IPHONE, browser, logged_in

BASE_URL = "https://normhub.example"
NEW_PASSWORD = "seven pale lanterns drift"
SENT_ANSWER = "If an account uses that address, we have sent it a link"
LINK = re.compile(re.escape(BASE_URL) + r"(/password/reset/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def app_overrides(smtp):
    # Links in emails use BASE_URL, never the Host the request came with.
    return {**smtp.settings(), "BASE_URL": BASE_URL}


def reset_emails(session) -> list[QueuedEmail]:
    session.rollback()
    session.expire_all()
    return list(
        session.scalars(
            select(QueuedEmail).where(QueuedEmail.kind == "password-reset").order_by(QueuedEmail.id)
        )
    )


def ask_for_link(client, session, user) -> str:
    """The path of the reset link mailed to ``user`` (read from the queued email)."""
    response = client.post("/password/forgot", data={"email": user.email})
    assert response.status_code == 302
    email = reset_emails(session)[-1]
    assert email.recipient == user.email
    return LINK.search(email.text_body).group(1)


def choose(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    data = {"new_password": password, "confirm": password if confirm is None else confirm}
    return client.post(path, data=data)


def can_log_in_with(session, user, password: str) -> bool:
    session.rollback()
    session.expire_all()
    return services.authenticate(session, user.email, password) is not None


def test_the_login_page_links_to_forgot_password(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in page
    form = client.get("/password/forgot").get_data(as_text=True)
    assert "Forgot your password?" in form and 'name="email"' in form


def test_the_answer_is_the_same_whether_or_not_an_account_uses_the_address(
    session, factory, client
):
    member = factory.user(email="known@example.org")
    known = client.post("/password/forgot", data={"email": "Known@Example.org"})
    unknown = client.post("/password/forgot", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert "Set-Cookie" not in known.headers and "Set-Cookie" not in unknown.headers
    after_known = client.get(known.headers["Location"]).get_data()
    after_unknown = client.get(unknown.headers["Location"]).get_data()
    assert after_known == after_unknown
    assert SENT_ANSWER in after_known.decode()
    # One email, to the account's own address; none to the address without one.
    [email] = reset_emails(session)
    assert email.recipient == member.email
    assert email.subject == "Reset your NormHub password"
    assert "nobody@example.org" not in {e.recipient for e in reset_emails(session)}


def test_a_bad_address_is_a_plain_form_error(client, session):
    response = client.post("/password/forgot", data={"email": ""})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)
    assert reset_emails(session) == []


def test_the_link_arrives_by_smtp_and_sets_a_new_password(app, session, factory, client, smtp):
    member = factory.user("Quinn")
    assert client.post("/password/forgot", data={"email": member.email}).status_code == 302
    [queued] = reset_emails(session)
    with smtp, running_worker(app):
        wait_until(lambda: fresh(session, queued.id).status == SENT, "the reset email to be sent")
    [received] = smtp.handler.messages
    assert received.recipients == [member.email]
    bodies = parts(received.message)
    text, html = bodies["text/plain"], bodies["text/html"]
    assert "Hello Quinn," in text and "within 60 minutes" in text
    path = LINK.search(text).group(1)
    assert f'href="{BASE_URL}{path}"' in html

    form = client.get(path)
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert "Choose a new password" in page and member.email in page
    assert form.headers["Referrer-Policy"] == "no-referrer"
    assert form.headers["Cache-Control"] == "no-store"

    done = choose(client, path)
    assert done.status_code == 302
    welcome = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Your password is changed and you are logged in" in welcome
    assert logged_in(client)  # the reset logs this browser in
    assert can_log_in_with(session, member, NEW_PASSWORD)
    assert not can_log_in_with(session, member, Factory.PASSWORD)


def test_a_reset_ends_every_other_login_and_revokes_api_tokens(app, session, factory, client):
    member = factory.user()
    api_services.create_token(session, member, "script")
    session.commit()
    laptop = browser(app, session)
    login(laptop, member)
    phone = browser(app, session, IPHONE)
    login(phone, member)
    path = ask_for_link(client, session, member)
    assert choose(client, path).status_code == 302
    assert not logged_in(laptop)
    assert not logged_in(phone)
    assert logged_in(client)
    session.rollback()
    assert len(session.scalars(select(LoginSession)).all()) == 1
    assert session.scalar(select(ApiToken.revoked_at)) is not None


def test_a_used_link_is_refused(session, factory, client):
    member = factory.user()
    path = ask_for_link(client, session, member)
    assert choose(client, path).status_code == 302
    again = client.get(path)
    assert again.status_code == 400
    page = again.get_data(as_text=True)
    assert "This link has been used already" in page
    assert 'href="/password/forgot"' in page  # a way to ask for a new one
    reused = choose(client, path, "another fine passphrase")
    assert reused.status_code == 400
    assert can_log_in_with(session, member, NEW_PASSWORD)
    assert not can_log_in_with(session, member, "another fine passphrase")


def test_a_link_expires_after_one_hour(session, factory, client, monkeypatch):
    member = factory.user()
    path = ask_for_link(client, session, member)
    issued = tokens.clock()
    monkeypatch.setattr(tokens, "clock", lambda: issued + 59 * 60)
    assert client.get(path).status_code == 200
    monkeypatch.setattr(tokens, "clock", lambda: issued + 61 * 60)
    late = client.get(path)
    assert late.status_code == 400
    assert "This link has expired" in late.get_data(as_text=True)
    assert choose(client, path).status_code == 400
    assert can_log_in_with(session, member, Factory.PASSWORD)


def test_a_tampered_link_is_refused(app, session, factory, client):
    member, other = factory.user(), factory.user()
    path = ask_for_link(client, session, member)
    token = path.rsplit("/", 1)[1]
    changed = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (changed, "not-a-token"):
        response = client.get(f"/password/reset/{bad}")
        assert response.status_code == 400
        assert "This link is not valid" in response.get_data(as_text=True)
    # Claims for another account, signed for another purpose, are refused too.
    claims = {"user": other.id, "state": reset.fingerprint(other)}
    elsewhere = tokens.sign(app.secret_key, tokens.UNSUBSCRIBE, claims)
    assert client.get(f"/password/reset/{elsewhere}").status_code == 400
    assert choose(client, f"/password/reset/{elsewhere}").status_code == 400
    assert can_log_in_with(session, other, Factory.PASSWORD)


def test_a_link_is_void_once_the_password_changes_another_way(session, factory, client):
    member = factory.user()
    path = ask_for_link(client, session, member)
    services.change_password(session, member, Factory.PASSWORD, NEW_PASSWORD)
    session.commit()
    response = client.get(path)
    assert response.status_code == 400
    assert "the password was changed since it was sent" in response.get_data(as_text=True)


def test_the_new_password_follows_the_registration_rules(session, factory, client):
    member = factory.user()
    path = ask_for_link(client, session, member)
    short = choose(client, path, "short")
    assert short.status_code == 400
    assert "Password must be 10 to 200 characters." in short.get_data(as_text=True)
    common = choose(client, path, "Password1234")
    assert common.status_code == 400
    assert "list of passwords people use most" in common.get_data(as_text=True)
    mismatch = choose(client, path, NEW_PASSWORD, "something else entirely")
    assert "The passwords do not match." in mismatch.get_data(as_text=True)
    # Refusals leave the link usable.
    assert choose(client, path).status_code == 302
    assert can_log_in_with(session, member, NEW_PASSWORD)


def test_a_logged_in_browser_resetting_someone_elses_account_switches_to_it(
    app, session, factory, client
):
    first, second = factory.user(), factory.user()
    login(client, first)
    path = ask_for_link(client, session, second)
    assert choose(client, path).status_code == 302
    session.rollback()
    rows = session.scalars(select(LoginSession.user_id)).all()
    assert rows == [second.id]  # the earlier login of this browser ended with the switch
