"""Registering or logging in from a community's "join" comes back to the community and joins
it (an open one; one joined by invite is only led back to), through the confirmation link as
through the login form, never to another site and never into a community one may not see."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from normhub.communities.models import Membership
from normhub.communities.services import leave
from tests.conftest import login
from tests.test_accounts_verification import PASSWORD, link_in, mails, user_by_email

ADDRESS = "nell.newcomer@example.org"


@pytest.fixture
def garden(factory):
    return factory.community(factory.user("Olga Owner"))


def register(client, query: str = "", email: str = ADDRESS):
    data = {"email": email, "display_name": "Nell Newcomer", "password": PASSWORD}
    return client.post(f"/register{query}", data={**data, "confirm": PASSWORD})


def log_in(client, email: str, query: str = "", password: str = PASSWORD):
    return client.post(f"/login{query}", data={"email": email, "password": password})


def is_member(session, community, email) -> bool:
    session.expire_all()
    user = user_by_email(session, email)
    return (
        session.scalar(
            select(Membership.id).where(
                Membership.community_id == community.id,
                Membership.user_id == user.id,
                Membership.left_at.is_(None),
            )
        )
        is not None
    )


def href(page: str, element_id: str) -> str:
    return html.unescape(re.search(rf'id="{element_id}" href="([^"]+)"', page).group(1))


def test_register_to_join_then_log_in_comes_back_joined(client, garden, session):
    community_page = client.get(f"/c/{garden.slug}").get_data(as_text=True)
    register_url = href(community_page, "register-to-join")
    assert parse_qs(urlsplit(register_url).query) == {
        "next": [f"/c/{garden.slug}"],
        "join": [garden.slug],
    }
    assert parse_qs(urlsplit(href(community_page, "login-to-join")).query) == {
        "next": [f"/c/{garden.slug}"],
        "join": [garden.slug],
    }
    form = client.get(register_url).get_data(as_text=True)
    assert f"Once your account is made you join {garden.name}" in form
    assert f'<input type="hidden" name="join" value="{garden.slug}">' in form

    query = "?" + urlsplit(register_url).query
    sent = register(client, query).get_data(as_text=True)
    assert "Check your inbox" in sent
    login_url = href(sent, "login-after-register")
    assert parse_qs(urlsplit(login_url).query)["join"] == [garden.slug]
    assert not is_member(session, garden, ADDRESS)

    response = log_in(client, ADDRESS, "?" + urlsplit(login_url).query)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/c/{garden.slug}"
    assert is_member(session, garden, ADDRESS)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Welcome to {garden.name}." in page
    assert "you are a member" in page


def test_the_confirmation_link_joins_the_first_time_only(client, garden, session):
    register(client, f"?next=/c/{garden.slug}&join={garden.slug}")
    (email,) = mails(session, "verify-email", ADDRESS)
    link = link_in(email)

    page = client.get(link).get_data(as_text=True)
    assert "Your address is confirmed" in page
    assert f'<p id="joined-on-confirmation">Welcome to {garden.name}.</p>' in page
    assert f'href="/login?next=/c/{garden.slug}"' in page.replace("%2F", "/")
    assert is_member(session, garden, ADDRESS)

    # Having left, following the same link again joins nothing: it confirmed already.
    leave(session, garden, user_by_email(session, ADDRESS))
    session.commit()
    again = client.get(link).get_data(as_text=True)
    assert "was confirmed already" in again and "joined-on-confirmation" not in again
    assert not is_member(session, garden, ADDRESS)


def test_a_link_without_join_joins_nothing(client, garden, session):
    register(client)
    (email,) = mails(session, "verify-email", ADDRESS)
    assert "joined-on-confirmation" not in client.get(link_in(email)).get_data(as_text=True)
    assert not is_member(session, garden, ADDRESS)


def test_a_community_joined_by_invite_is_only_led_back_to(client, factory, session):
    club = factory.community(join_policy="invite")
    page = client.get(f"/c/{club.slug}").get_data(as_text=True)
    assert "register-to-join" not in page and "login-to-join" not in page
    for link in ("login-to-community", "register-for-community"):
        assert parse_qs(urlsplit(href(page, link)).query) == {"next": [f"/c/{club.slug}"]}
    # Even when a link names it to join, logging in only leads back and says why.
    register(client, f"?join={club.slug}")
    (email,) = mails(session, "verify-email", ADDRESS)
    client.get(link_in(email))
    response = log_in(client, ADDRESS, f"?join={club.slug}")
    assert response.headers["Location"] == f"/c/{club.slug}"
    assert not is_member(session, club, ADDRESS)
    landed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{club.name} is joined by invite link" in landed


def test_a_members_only_community_is_neither_named_nor_joined(client, factory, session):
    hidden = factory.community(visibility="members")
    factory.user("Nell Newcomer", email=ADDRESS)
    form = client.get(f"/login?join={hidden.slug}").get_data(as_text=True)
    assert hidden.name not in form and hidden.slug not in form
    response = log_in(client, ADDRESS, f"?join={hidden.slug}", password="correct horse battery")
    assert response.headers["Location"] == "/"
    assert not is_member(session, hidden, ADDRESS)


@pytest.mark.parametrize(
    "next_value", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_never_an_open_redirect(client, garden, session, factory, next_value):
    factory.user("Nell Newcomer", email=ADDRESS)
    query = {"next": next_value, "join": "../evil"}
    response = client.post(
        "/login",
        query_string=query,
        data={"email": ADDRESS, "password": "correct horse battery"},
    )
    assert response.headers["Location"] == "/"
    page = client.post(
        "/register",
        query_string=query,
        data={
            "email": "third.person@example.org",
            "display_name": "Third",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    ).get_data(as_text=True)
    assert "evil" not in href(page, "login-after-register")


def test_a_taken_address_is_sent_a_login_link_that_joins(client, garden, factory, session):
    factory.user("Nell Newcomer", email=ADDRESS)
    sent = register(client, f"?next=/c/{garden.slug}&join={garden.slug}")
    assert "Check your inbox" in sent.get_data(as_text=True)  # the same answer as for a new one
    (email,) = mails(session, "account-exists", ADDRESS)
    [login_url] = set(re.findall(r"http://normhub\.test(/login\?[^\s\"<]+)", email.text_body))
    assert parse_qs(urlsplit(html.unescape(login_url)).query) == {
        "next": [f"/c/{garden.slug}"],
        "join": [garden.slug],
    }
    response = log_in(
        client, ADDRESS, "?" + urlsplit(login_url).query, password="correct horse battery"
    )
    assert response.headers["Location"] == f"/c/{garden.slug}"
    assert is_member(session, garden, ADDRESS)


def test_a_logged_in_member_following_a_join_link_is_sent_on_and_nothing_written(
    client, garden, factory, session
):
    member = factory.user("Mo Member")
    login(client, member)
    response = client.get(f"/login?next=/c/{garden.slug}&join={garden.slug}")
    assert response.headers["Location"] == f"/c/{garden.slug}"
    assert not is_member(session, garden, member.email)
