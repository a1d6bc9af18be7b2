"""The read endpoint with CSRF protection on, as in production."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from normhub.exposure.models import ExposureEvent


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


def read_events(session) -> int:
    session.rollback()
    try:
        return session.scalar(
            select(func.count()).select_from(ExposureEvent).where(ExposureEvent.kind == "read")
        )
    finally:
        session.commit()


def test_read_report_needs_the_csrf_token(app, client, session, factory):
    community = factory.community()
    reader = factory.member(community)
    norm = factory.norm(community)
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    response = client.post(
        "/login",
        data={"email": reader.email, "password": factory.PASSWORD, "csrf_token": csrf.group(1)},
    )
    assert response.status_code == 302
    path = f"/c/{community.slug}/norms/{norm.slug}"
    page = client.get(path).get_data(as_text=True)
    form = re.search(r'<form[^>]*id="read-report"[^>]*>', page).group(0)
    fields = {k: html.unescape(v) for k, v in re.findall(r'data-([a-z-]+)="([^"]*)"', form)}
    report = {"version": fields["version"], "token": fields["token"]}
    headers = {"X-Requested-With": "fetch"}

    refused = client.post(f"{path}/read", data=report, headers=headers)
    assert refused.status_code == 400
    assert read_events(session) == 0

    accepted = client.post(
        f"{path}/read", data=report, headers={**headers, "X-CSRFToken": fields["csrf"]}
    )
    assert accepted.status_code == 204
    assert read_events(session) == 1


def csrf_login(client, user, password):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {"email": user.email, "password": password, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302


def page_token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_checks_and_replies_need_the_csrf_token(app, client, session, factory):
    from normhub.exposure.models import ExposureCheck

    community = factory.community()
    checker = factory.member(community, name="Felix")
    charlie = factory.member(community, name="Charlie")
    norm = factory.norm(community)
    csrf_login(client, checker, factory.PASSWORD)
    query = f"community={community.slug}&norm={norm.slug}&member={charlie.id}"
    form_page = client.get(f"/exposure/check?{query}").get_data(as_text=True)
    data = {"community": community.slug, "norm": norm.slug, "member": str(charlie.id)}

    def count():
        session.rollback()
        try:
            return session.scalar(select(func.count(ExposureCheck.id)))
        finally:
            session.commit()

    assert client.post("/exposure/check", data=data).status_code == 400
    assert count() == 0
    made = client.post("/exposure/check", data={**data, "csrf_token": page_token(form_page)})
    assert made.status_code == 303 and count() == 1

    client.post("/logout", data={"csrf_token": page_token(form_page)})
    csrf_login(client, charlie, factory.PASSWORD)
    check_id = made.headers["Location"].rsplit("/", 1)[1]
    record = client.get(made.headers["Location"]).get_data(as_text=True)
    reply = f"/exposure/checks/{check_id}/reply"
    assert client.post(reply, data={"text": "Hello"}).status_code == 400
    sent = client.post(reply, data={"text": "Hello", "csrf_token": page_token(record)})
    assert sent.status_code == 303
    about_me = client.get("/exposure/about-me").get_data(as_text=True)
    assert 'name="csrf_token"' in about_me and "Your reply: “Hello”" in about_me
