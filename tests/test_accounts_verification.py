"""Confirming an email address: the links, registration's one answer, changing the address,
and what an unconfirmed member is not sent (digests, ``delivered`` exposure)."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, text

from normhub import tokens
from normhub.accounts import services, verification
from normhub.accounts.models import User
from normhub.cli import downgrade_database, upgrade_database
from normhub.db import make_engine, session_scope, utcnow
from normhub.digest.models import DigestSend
from normhub.digest.sending import DigestRun
from normhub.exposure.ledger import record_event
from normhub.exposure.models import ExposureEvent, Nudge
from normhub.exposure.nudges import nudge
from normhub.jobs.worker import running_worker
from normhub.mail.queue import SENT, QueuedEmail
from tests.browser_helpers import SERVED, fits_the_screen
from tests.conftest import fresh_database, login
from tests.factories import Factory
from tests.jobs_helpers import fresh, wait_until
from tests.smtp import parts

PASSWORD = "a long enough password"
LINK = re.compile(r"http://normhub\.test(/confirm-email/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def app_overrides(smtp):
    return smtp.settings()


def register(client, email="new.person@example.org", **changes):
    data = {"email": email, "display_name": "New Person", "password": PASSWORD, "confirm": PASSWORD}
    data.update(changes)
    return client.post("/register", data=data)


def mails(session, kind=None, to=None) -> list[QueuedEmail]:
    session.expire_all()
    query = select(QueuedEmail).order_by(QueuedEmail.id)
    if kind:
        query = query.where(QueuedEmail.kind == kind)
    if to:
        query = query.where(QueuedEmail.recipient == to)
    return list(session.scalars(query))


def link_in(email: QueuedEmail) -> str:
    """The path of the one confirmation link an email carries, in both its parts."""
    links = set(LINK.findall(email.text_body)) | set(LINK.findall(email.html_body))
    assert len(links) == 1, links
    return links.pop()


def user_by_email(session, email) -> User:
    session.expire_all()
    return session.scalars(select(User).where(User.email == email)).one()


def unconfirmed_user(session, client, email="new.person@example.org") -> tuple[User, str]:
    """Registered through the page: the account and the path of its link."""
    assert register(client, email).status_code == 200
    (sent,) = mails(session, "verify-email", email)
    return user_by_email(session, email), link_in(sent)


def run_digests(app, session, transport):
    transport.open()
    try:
        return DigestRun(app, session, "weekly", transport).run()
    finally:
        transport.close()


def delivered_to(session, user) -> list[tuple[int, int]]:
    session.expire_all()
    return list(
        session.execute(
            select(ExposureEvent.norm_id, ExposureEvent.version_number).where(
                ExposureEvent.user_id == user.id, ExposureEvent.kind == "delivered"
            )
        )
    )


# --- registration and the link --------------------------------------------------------------


def test_registration_mails_a_link_that_confirms_the_address(app, session, client, smtp):
    page = register(client).get_data(as_text=True)
    assert "Check your inbox: we've sent a link to finish signing up to" in page
    assert "<strong>new.person@example.org</strong>" in page
    user = user_by_email(session, "new.person@example.org")
    assert user.email_verified_at is None and user.verification_sent_at is not None
    (queued,) = mails(session)
    assert queued.kind == "verify-email" and queued.recipient == user.email

    with smtp, running_worker(app):
        wait_until(lambda: fresh(session, queued.id).status == SENT, "the link to be sent")
    (received,) = smtp.handler.messages
    assert received.recipients == ["new.person@example.org"]
    assert received.message["Subject"] == "Confirm your email address for NormHub"
    bodies = parts(received.message)
    path = urlsplit(LINK.search(bodies["text/plain"]).group(0)).path
    assert f'href="http://normhub.test{path}"' in bodies["text/html"]
    assert "works for 48 hours" in bodies["text/plain"]

    confirmed = client.get(path)
    assert confirmed.status_code == 200
    assert "Thank you: <strong>new.person@example.org</strong> is confirmed." in (
        confirmed.get_data(as_text=True)
    )
    assert user_by_email(session, "new.person@example.org").email_verified_at is not None
    again = client.get(path).get_data(as_text=True)
    assert "<strong>new.person@example.org</strong> was confirmed already." in again


def test_an_expired_link_is_refused_and_its_button_sends_a_new_one(session, client, monkeypatch):
    user, _ = unconfirmed_user(session, client)
    user.verification_sent_at = utcnow() - timedelta(hours=49)
    session.commit()
    real_time = time.time
    with monkeypatch.context() as patched:
        patched.setattr(time, "time", lambda: real_time() - 49 * 3600)
        with client.application.app_context():
            old = verification.confirmation_token(user, user.email)

    refused = client.get(f"/confirm-email/{old}")
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "This confirmation link has expired: a link works for 48 hours." in page
    assert f'action="/confirm-email/{old}/resend"' in page
    assert user_by_email(session, user.email).email_verified_at is None

    # Not logged in: the button alone sends a new link, to the same address.
    assert client.post(f"/confirm-email/{old}/resend").status_code == 302
    newest = mails(session, "verify-email", user.email)[-1]
    assert len(mails(session, "verify-email")) == 2
    assert client.get(link_in(newest)).status_code == 200
    assert user_by_email(session, user.email).email_verified_at is not None


@pytest.mark.parametrize(
    "spoil",
    [
        lambda token: token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
        lambda token: token[: len(token) // 2],
        # A good signature made for another purpose (the digest's unsubscribe links).
        lambda token: tokens.sign("test", tokens.UNSUBSCRIBE, {"u": 1, "e": "x@example.org"}),
    ],
    ids=["tampered", "cut-short", "other-purpose"],
)
def test_a_tampered_link_is_refused_with_a_resend_button(app, session, client, spoil):
    app.config["SECRET_KEY"] = "test"
    user, path = unconfirmed_user(session, client)
    bad = "/confirm-email/" + spoil(path.rsplit("/", 1)[1])

    anonymous = client.get(bad)
    assert anonymous.status_code == 400
    page = anonymous.get_data(as_text=True)
    assert "This confirmation link is not valid." in page
    assert "To get a new link," in page and "log in</a>" in page

    login(client, user, PASSWORD)
    page = client.get(bad).get_data(as_text=True)
    assert "This confirmation link is not valid." in page
    assert 'action="/settings/email/resend"' in page and "Send me a new link" in page
    assert user_by_email(session, user.email).email_verified_at is None


# --- registering a taken address ------------------------------------------------------------


class CountingHasher:
    """The tests' password hasher, counting hashes: both answers must spend one."""

    def __init__(self, hasher):
        self.hasher, self.hashes = hasher, 0

    def hash(self, password):
        self.hashes += 1
        return self.hasher.hash(password)

    def __getattr__(self, name):
        return getattr(self.hasher, name)


def test_a_taken_address_gets_the_same_page_and_its_owner_an_explanation(
    session, client, monkeypatch
):
    hasher = CountingHasher(services._hasher)
    monkeypatch.setattr(services, "_hasher", hasher)
    new = register(client, "someone@example.org")
    assert hasher.hashes == 1
    owner = user_by_email(session, "someone@example.org")

    other = "another long password"
    taken = register(
        client, "Someone@Example.org", display_name="Intruder", password=other, confirm=other
    )
    assert hasher.hashes == 2  # a hash for the taken address too: no quicker answer
    assert taken.status_code == new.status_code == 200
    assert taken.get_data() == new.get_data()
    assert "Set-Cookie" not in taken.headers and "Set-Cookie" not in new.headers
    assert session.scalars(select(User.id)).all() == [owner.id]

    verify, exists = mails(session)
    assert (verify.kind, verify.recipient) == ("verify-email", "someone@example.org")
    assert (exists.kind, exists.recipient) == ("account-exists", "someone@example.org")
    assert exists.subject == "You already have a NormHub account"
    assert "someone asked to use someone@example.org for a NormHub account" in exists.text_body
    assert "http://normhub.test/login" in exists.text_body
    assert 'href="http://normhub.test/login"' in exists.html_body
    assert not LINK.search(exists.text_body)  # nothing in it confirms anything


def test_registration_still_refuses_bad_input_the_same_for_every_address(session, client, factory):
    factory.user(email="taken@example.org")
    for address in ("taken@example.org", "free@example.org"):
        response = register(client, address, password="short", confirm="short")
        assert response.status_code == 400
        assert "Password must be 10" in response.get_data(as_text=True)
    assert mails(session) == []


# --- what an unconfirmed member is not sent -------------------------------------------------


def test_no_digest_and_no_delivered_event_until_confirmed(app, session, client, factory, smtp):
    town = factory.community()
    user, path = unconfirmed_user(session, client)
    factory.member(town, user)
    steward = factory.member(town, role="steward")
    norm = factory.norm(town, title="Bring your own cup")
    (reminder,) = nudge(session, steward, norm, [user])
    session.commit()

    with smtp:
        before = DigestRun(app, session, "weekly", smtp.transport())
        assert before.count_due() == 3  # the owner, the steward and the author
        report = run_digests(app, session, smtp.transport())
        assert report.sent >= 1 and not smtp.handler.to(user.email)
        assert delivered_to(session, user) == []
        assert session.scalar(select(DigestSend.id).where(DigestSend.user_id == user.id)) is None
        assert session.get(Nudge, reminder.id).delivered_at is None
        # Nor does the ledger take a "delivered" for them from anyone else.
        assert record_event(session, user, norm, 1, "delivered") is None
        session.commit()
        assert delivered_to(session, user) == []

        assert client.get(path).status_code == 200
        report = run_digests(app, session, smtp.transport())
    (digest,) = smtp.handler.to(user.email)
    assert report.sent == 1
    assert "Bring your own cup" in parts(digest.message)["text/plain"]
    assert delivered_to(session, user) == [(norm.id, 1)]
    assert session.get(Nudge, reminder.id).delivered_at is not None


def test_the_banner_shows_to_unconfirmed_members_only_and_resends_at_most_every_5_minutes(
    session, client, factory
):
    user, _ = unconfirmed_user(session, client)
    login(client, user, PASSWORD)
    page = client.get("/").get_data(as_text=True)
    assert "Confirm your email address to get digests." in page
    assert 'action="/settings/email/resend"' in page
    assert '<input type="hidden" name="next" value="/">' in page

    # The link went out at registration, a moment ago.
    too_soon = client.post("/settings/email/resend", data={"next": "/"}, follow_redirects=True)
    assert "We sent you a link less than 5 minutes ago." in too_soon.get_data(as_text=True)
    assert len(mails(session, "verify-email")) == 1

    user.verification_sent_at = utcnow() - timedelta(minutes=5, seconds=1)
    session.commit()
    resent = client.post("/settings/email/resend", data={"next": "/"})
    assert resent.status_code == 302 and resent.headers["Location"] == "/"
    assert len(mails(session, "verify-email", user.email)) == 2
    again = client.post("/settings/email/resend", follow_redirects=True).get_data(as_text=True)
    assert "you can ask for another in 5 minutes." in again
    assert len(mails(session, "verify-email")) == 2

    assert client.get(link_in(mails(session)[-1])).status_code == 200
    confirmed = client.get("/").get_data(as_text=True)
    assert "Confirm your email address to get digests." not in confirmed
    client.post("/logout")
    login(client, factory.user())
    assert "Confirm your email address" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("app_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_resending_needs_the_form_token(session, client, factory):
    user = factory.user(verified=False)
    login_page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    data = {"email": user.email, "password": Factory.PASSWORD, "csrf_token": csrf}
    assert client.post("/login", data=data).status_code == 302
    assert client.post("/settings/email/resend").status_code == 400
    assert mails(session) == []
    banner = client.get("/").get_data(as_text=True)
    token = re.search(
        r'action="/settings/email/resend">\s*'
        r'<input type="hidden" name="csrf_token" value="([^"]+)"',
        banner,
    ).group(1)
    assert client.post("/settings/email/resend", data={"csrf_token": token}).status_code == 302
    assert [m.recipient for m in mails(session, "verify-email")] == [user.email]


# --- changing the address -------------------------------------------------------------------


def change_email(client, new, password=Factory.PASSWORD):
    return client.post("/settings/email", data={"new_email": new, "password": password})


def test_changing_the_address_keeps_the_old_one_until_the_new_one_is_confirmed(
    app, session, client, factory, smtp
):
    town = factory.community()
    user = factory.member(town, factory.user(email="old@example.org"))
    factory.norm(town, title="Quiet hours after ten")
    login(client, user)

    wrong = change_email(client, "new@example.org", password="not my password")
    assert wrong.status_code == 400
    assert "That is not your password." in wrong.get_data(as_text=True)
    assert mails(session) == []

    done = change_email(client, "New@Example.org")
    assert done.status_code == 302
    notice = client.get("/settings").get_data(as_text=True)
    assert "We have sent a link to new@example.org." in notice
    assert "You asked to change it to <strong>new@example.org</strong>." in notice
    user = user_by_email(session, "old@example.org")
    assert (user.pending_email, user.email_verified_at is not None) == ("new@example.org", True)
    link, changed = mails(session)
    assert (link.kind, link.recipient) == ("verify-email", "new@example.org")
    assert link.subject == "Confirm your new email address for NormHub"
    assert (changed.kind, changed.recipient) == ("email-changed", "old@example.org")
    assert changed.subject == "Your NormHub email address is being changed"
    assert "from old@example.org to new@example.org" in changed.text_body
    assert "we keep writing to old@example.org" in changed.text_body

    with smtp:  # the digest still goes to the address in use
        run_digests(app, session, smtp.transport())
    assert smtp.handler.to("old@example.org") and not smtp.handler.to("new@example.org")

    confirmed = client.get(link_in(link)).get_data(as_text=True)
    assert "Your account now uses <strong>new@example.org</strong>." in confirmed
    user = user_by_email(session, "new@example.org")
    assert user.pending_email is None and user.email_verified_at is not None
    client.post("/logout")
    login(client, user)  # the new address logs in


def test_a_link_for_an_old_address_confirms_nothing_once_the_account_moved_on(session, client):
    user, first_link = unconfirmed_user(session, client, "first@example.org")
    login(client, user, PASSWORD)
    user.verification_sent_at = utcnow() - timedelta(minutes=6)
    session.commit()
    assert change_email(client, "second@example.org", PASSWORD).status_code == 302
    second_link = link_in(mails(session, "verify-email", "second@example.org")[0])
    user.verification_sent_at = utcnow() - timedelta(minutes=6)
    session.commit()
    assert change_email(client, "third@example.org", PASSWORD).status_code == 302
    third_link = link_in(mails(session, "verify-email", "third@example.org")[0])

    # Asked for "third" since: the link for "second" is stale.
    stale = client.get(second_link)
    assert stale.status_code == 400
    assert "This link is for an address your account no longer uses or asks to use" in (
        stale.get_data(as_text=True)
    )
    assert client.get(third_link).status_code == 200
    user = user_by_email(session, "third@example.org")
    assert user.email_verified_at is not None
    # The link from registration named "first": it cannot confirm the account now.
    user.email_verified_at = None
    session.commit()
    assert client.get(first_link).status_code == 400
    assert user_by_email(session, "third@example.org").email_verified_at is None


def test_moving_to_a_taken_address_answers_the_same_and_tells_its_owner(session, client, factory):
    factory.user(email="mine@example.org")
    user = factory.user(email="me@example.org")
    login(client, user)
    response = change_email(client, "mine@example.org")
    assert response.status_code == 302
    page = client.get("/settings").get_data(as_text=True)
    assert "We have sent a link to mine@example.org." in page
    kinds = [(m.kind, m.recipient) for m in mails(session)]
    assert kinds == [
        ("account-exists", "mine@example.org"),
        ("email-changed", "me@example.org"),
    ]
    # A link for it, however obtained, cannot move this account onto another's address.
    with client.application.app_context():
        forged_by_us = verification.confirmation_token(user, "mine@example.org")
    refused = client.get(f"/confirm-email/{forged_by_us}")
    assert refused.status_code == 400
    assert "used for another account" in refused.get_data(as_text=True)
    assert user_by_email(session, "me@example.org").pending_email == "mine@example.org"


def test_cancelling_a_change_keeps_the_address(session, client, factory):
    user = factory.user(email="stay@example.org")
    login(client, user)
    change_email(client, "elsewhere@example.org")
    link = link_in(mails(session, "verify-email")[0])
    assert client.post("/settings/email/cancel").status_code == 302
    assert user_by_email(session, "stay@example.org").pending_email is None
    assert client.get(link).status_code == 400
    assert user_by_email(session, "stay@example.org").email == "stay@example.org"


# --- accounts made by operators, and the migration ------------------------------------------


def test_admin_created_demo_and_factory_accounts_are_confirmed(app, session, factory):
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=["user", "create", "admin@example.org", "--name", "Admin", "--password-stdin"],
        input="a long enough password\n",
    )
    assert created.exit_code == 0, created.output
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    with session_scope(app) as fresh_session:
        unconfirmed = fresh_session.scalars(
            select(User.email).where(User.email_verified_at.is_(None))
        ).all()
    assert unconfirmed == []
    assert factory.user().email_verified_at is not None
    assert factory.user(verified=False).email_verified_at is None
    assert mails(session) == []  # nobody was sent a link


def test_migration_counts_existing_accounts_as_confirmed(tmp_path):
    with fresh_database(tmp_path) as url:
        upgrade_database(url, "0011")
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO users (email, display_name, password_hash, bio, is_admin,"
                        " created_at) VALUES ('early@example.org', 'Early', 'x', '', false, :at)"
                    ),
                    {"at": utcnow() - timedelta(days=400)},
                )
            upgrade_database(url, "0015")
            with engine.connect() as connection:
                row = connection.execute(
                    text("SELECT email_verified_at, pending_email FROM users")
                ).one()
            assert row.email_verified_at is not None and row.pending_email is None
            downgrade_database(url, "0011")
            with engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM users")).scalar() == 1
        finally:
            engine.dispose()


# --- in a real browser, on a phone-sized screen ---------------------------------------------


@pytest.mark.parametrize("app_overrides", [SERVED])
def test_on_a_phone_register_see_the_banner_resend_and_confirm(session, live_server, browser):
    page = browser.new_context(viewport={"width": 390, "height": 800}).new_page()
    _register_log_in_resend_and_confirm(page, live_server, session)


def _register_log_in_resend_and_confirm(page, base, session):
    page.goto(f"{base}/register")
    page.fill("input[name=email]", "phone@example.org")
    page.fill("input[name=display_name]", "Pat Phone")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    page.click("form button[type=submit]:has-text('Register')")
    assert page.locator("h1").inner_text() == "Check your inbox"
    assert fits_the_screen(page)
    session.rollback()

    page.goto(f"{base}/login")
    page.fill("input[name=email]", "phone@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]:has-text('Log in')")
    banner = page.locator(".verify-banner")
    assert "Confirm your email address to get digests." in banner.inner_text()
    assert fits_the_screen(page)
    banner.locator("button:has-text('Send the link again')").click()
    assert "less than 5 minutes ago" in page.locator(".flash-error").inner_text()

    user = user_by_email(session, "phone@example.org")
    user.verification_sent_at = utcnow() - timedelta(minutes=6)
    session.commit()
    page.locator(".verify-banner button").click()
    assert "We have sent a new link to phone@example.org" in page.locator(".flash").inner_text()
    newest = mails(session, "verify-email")[-1]
    session.commit()  # never hold SQLite's lock while the server works

    page.goto(base + link_in(newest))
    assert page.locator("h1").inner_text() == "Your address is confirmed"
    assert page.locator(".verify-banner").count() == 0
    assert user_by_email(session, "phone@example.org").email_verified_at is not None
    session.commit()
