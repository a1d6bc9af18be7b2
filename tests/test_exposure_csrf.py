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
