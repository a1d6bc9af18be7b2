"""The home page for a visitor: what NormHub is and how it works, live examples from public
communities only, a way to register, and every community one click away."""

from __future__ import annotations

import re
from datetime import timedelta

from normhub.db import utcnow
from normhub.responses.services import record_response
from tests.conftest import login


def section(page: str, element_id: str) -> str:
    found = re.search(
        rf'<article class="card home-example" id="{element_id}">(.*?)</article>', page, re.S
    )
    assert found, element_id
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def put_in_force(norm, when) -> None:
    """In force by its current version since ``when`` (the gate has tests of its own)."""
    norm.status = "in_force"
    norm.in_force_version_number = norm.current_version_number
    norm.status_changed_at = when


def test_a_visitor_learns_what_normhub_is_and_how_it_works(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "NormHub is where a community proposes, discusses and adopts the norms" in text
    steps = re.search(r'<ol class="home-steps">(.*?)</ol>', page, re.S).group(1)
    assert [
        " ".join(re.sub(r"<[^>]+>", " ", s).split()).split(".")[0]
        for s in re.findall(r"<li>(.*?)</li>", steps, re.S)
    ] == [
        "An essay, with its assumptions in the open",
        "Members say what they understood",
        "In force only once it has been read",
        "A check before anyone is called out",
    ]
    assert '<a class="button" id="home-register" href="/register">Register</a>' in page
    # Every community stays reachable, from the page and from the menu on every page.
    assert '<a href="/communities" id="home-communities">' in page
    assert page.count('href="/communities"') >= 2


def test_examples_come_from_public_communities_only(client, factory, session):
    public = factory.community()
    author = factory.member(public, name="Arno Author")
    readers = [factory.member(public, name=f"Reader {n}") for n in range(2)]
    in_force = factory.norm(public, author, title="Lock the shed at dusk")
    put_in_force(in_force, utcnow() - timedelta(days=3))
    open_norm = factory.norm(public, author, title="Ask before borrowing")
    record_response(session, open_norm, readers[0], "yes", "endorse")
    record_response(session, in_force, readers[0], "yes", "endorse")
    record_response(session, in_force, readers[1], "yes", "endorse")

    # A members-only community is busier and more recent: it must not show at all.
    hidden = factory.community(visibility="members")
    insider = factory.member(hidden)
    secret_in_force = factory.norm(hidden, insider, title="Secret rota in force")
    put_in_force(secret_in_force, utcnow())
    secret_open = factory.norm(hidden, insider, title="Secret plan open")
    secret_open.last_activity_at = utcnow() + timedelta(days=1)
    session.commit()

    page = client.get("/").get_data(as_text=True)
    assert "Secret" not in page and hidden.name not in page and hidden.slug not in page

    example = section(page, "example-in-force")
    assert "Lock the shed at dusk" in example and public.name in example
    # Owner, Arno and two readers; Arno wrote it (endorsed), both readers answered.
    assert "3 of 4 members (75%) understood the current version; 2 responses." in example
    assert f"In force since {in_force.status_changed_at:%Y-%m-%d}." in example

    example = section(page, "example-open")
    assert "Ask before borrowing" in example
    assert "2 of 4 members (50%) understood the current version; 1 response." in example
    assert (
        "The community asks 75% and 3 responses: 2 more people before it can be put in force."
        in example
    )
    assert f'href="/c/{public.slug}/norms/{open_norm.slug}"' in page
    assert f'href="/c/{public.slug}"' in page


def test_without_public_norms_there_are_no_examples(client, factory):
    factory.community(visibility="members")
    page = client.get("/").get_data(as_text=True)
    assert "home-example" not in page
    assert "No public communities yet." in page
    assert "How it works" in page


def test_a_member_gets_their_own_home_instead(client, factory):
    community = factory.community()
    member = factory.member(community)
    login(client, member)
    page = client.get("/").get_data(as_text=True)
    assert "<h1>What needs you</h1>" in page
    assert "How it works" not in page and "home-register" not in page
