"""With CSRF protection on (as in production), forms without a token are refused."""

from __future__ import annotations

import re

import pytest

from normhub.accounts.models import User
from tests.factories import Factory


@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_post_without_token_gets_friendly_400(client, factory, session):
    user = factory.user()
    response = client.post("/login", data={"email": user.email, "password": Factory.PASSWORD})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Your form expired or was sent from elsewhere" in html
    assert "<html" in html  # the site's error page, not a bare message

    registered = client.post(
        "/register",
        data={
            "email": "csrf@example.org",
            "display_name": "No Token",
            "password": "long enough password",
            "confirm": "long enough password",
        },
    )
    assert registered.status_code == 400
    assert session.query(User).filter_by(email="csrf@example.org").count() == 0


def test_post_with_token_works_and_logout_needs_it(client, factory):
    user = factory.user()
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": user.email, "password": Factory.PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    # A cross-site logout attempt (no token) is refused; the session survives.
    assert client.post("/logout").status_code == 400
    assert client.get("/settings").status_code == 200
    page = client.get("/settings").get_data(as_text=True)
    logout_token = re.search(
        r'action="/logout" method="post".*?name="csrf_token" value="([^"]+)"', page, re.S
    ).group(1)
    assert client.post("/logout", data={"csrf_token": logout_token}).status_code == 302
    assert client.get("/settings").status_code == 302


def test_join_button_carries_a_token(client, factory):
    community = factory.community()
    user = factory.user()
    token = _token(client.get("/login").get_data(as_text=True))
    client.post(
        "/login", data={"email": user.email, "password": Factory.PASSWORD, "csrf_token": token}
    )
    page = client.get(f"/c/{community.slug}").get_data(as_text=True)
    join_form = re.search(r'<form method="post" action="/c/[^"]+/join".*?</form>', page, re.S)
    assert join_form and 'name="csrf_token"' in join_form.group(0)
    assert client.post(f"/c/{community.slug}/join").status_code == 400
