"""In a real browser on a phone-sized screen: forgot password, the emailed link, a new
password, and ending another browser's login from "Where you are logged in".

Debian's Chromium through Playwright, against the app served in a thread with CSRF on
(the fixtures of test_browser_read_report). The link is read from the queued email.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from normhub.accounts.models import LoginSession
from normhub.mail.queue import QueuedEmail
from tests.browser_helpers import PHONE, fits_the_screen, log_in, served_app

NEW_PASSWORD = "seven pale lanterns drift"

app_overrides = served_app()


def test_reset_on_a_phone_then_end_the_other_login(app, session, factory, live_server, browser):  # noqa: F811
    member = factory.user("Rosa")
    laptop = browser.new_context()
    log_in(laptop.new_page(), live_server, member)

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(f"{live_server}/login")
    with page.expect_navigation():
        page.click("text=Forgot your password?")
    assert fits_the_screen(page, slack=1)
    page.fill("input[name=email]", member.email)
    with page.expect_navigation():
        page.click("button:has-text('Send me a link')")
    assert "If an account uses that address, we have sent it a link" in page.content()

    session.rollback()
    email = session.scalar(select(QueuedEmail).where(QueuedEmail.kind == "password-reset"))
    path = re.search(r"/password/reset/\S+", email.text_body).group(0)
    page.goto(live_server + path)
    assert fits_the_screen(page, slack=1)
    page.fill("input[name=new_password]", "password1234")
    page.fill("input[name=confirm]", "password1234")
    with page.expect_navigation():
        page.click("button:has-text('Set my new password')")
    assert "list of passwords people use most" in page.content()
    page.fill("input[name=new_password]", NEW_PASSWORD)
    page.fill("input[name=confirm]", NEW_PASSWORD)
    with page.expect_navigation():
        page.click("button:has-text('Set my new password')")
    assert "Your password is changed and you are logged in" in page.content()

    # The reset ended the laptop's login.
    laptop_page = laptop.new_page()
    laptop_page.goto(f"{live_server}/settings")
    assert "/login" in laptop_page.url

    # Log the laptop in again, then end that login from the phone.
    laptop_page.goto(f"{live_server}/login")
    laptop_page.fill("input[name=email]", member.email)
    laptop_page.fill("input[name=password]", NEW_PASSWORD)
    with laptop_page.expect_navigation():
        laptop_page.click("form button[type=submit]:has-text('Log in')")
    page.goto(f"{live_server}/settings/sessions")
    assert fits_the_screen(page, slack=1)
    assert page.locator("text=(this browser)").count() == 1
    with page.expect_navigation():
        page.locator("button:has-text('End')").first.click()
    assert "That login has ended" in page.content()
    laptop_page.goto(f"{live_server}/settings")
    assert "/login" in laptop_page.url
    session.rollback()
    assert len(session.scalars(select(LoginSession)).all()) == 1
    phone.close()
    laptop.close()
