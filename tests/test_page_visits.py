"""Only a person opening the norm page records "opened": not an image, script, frame,
fetch or prefetch of it. Nor does an <img> make an exposure check in the viewer's name."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from normhub.exposure.models import ExposureCheck, ExposureEvent
from tests.conftest import login

NAVIGATE = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-User": "?1"}
NOT_A_VISIT = {
    "an <img>": {"Sec-Fetch-Dest": "image", "Sec-Fetch-Mode": "no-cors"},
    "a <script>": {"Sec-Fetch-Dest": "script", "Sec-Fetch-Mode": "no-cors"},
    "an <iframe>": {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Mode": "navigate"},
    "a stylesheet": {"Sec-Fetch-Dest": "style", "Sec-Fetch-Mode": "no-cors"},
    "a script's fetch()": {"Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors"},
    "a mode without a destination": {"Sec-Fetch-Mode": "no-cors"},
    "Chrome's prefetch": {**NAVIGATE, "Sec-Purpose": "prefetch"},
    "Chrome's prerender": {**NAVIGATE, "Sec-Purpose": "prefetch;prerender"},
    "an old browser's prefetch": {"Purpose": "prefetch"},
    "Firefox's prefetch": {"X-Moz": "prefetch"},
}


@pytest.fixture
def reader(factory, session, client):
    community = factory.community()
    author = factory.member(community, name="Ada")
    charlie = factory.member(community, name="Charlie")
    norm = factory.norm(community, author, title="Ask before forwarding")
    login(client, charlie)
    return charlie, norm, f"/c/{community.slug}/norms/{norm.slug}"


def opened(session, user) -> int:
    session.rollback()
    try:
        return session.scalar(
            select(func.count())
            .select_from(ExposureEvent)
            .where(ExposureEvent.user_id == user.id, ExposureEvent.kind == "opened")
        )
    finally:
        session.commit()


@pytest.mark.parametrize("what", sorted(NOT_A_VISIT))
def test_loads_that_are_not_a_visit_record_nothing(client, session, reader, what):
    charlie, _, path = reader
    response = client.get(path, headers=NOT_A_VISIT[what])
    assert response.status_code == 200  # the page is served all the same
    assert "Ask before forwarding" in response.get_data(as_text=True)
    assert opened(session, charlie) == 0


def test_a_navigation_records_once(client, session, reader):
    charlie, _, path = reader
    client.get(path, headers={"Sec-Fetch-Dest": "image", "Sec-Fetch-Mode": "no-cors"})
    assert opened(session, charlie) == 0
    assert client.get(path, headers=NAVIGATE).status_code == 200
    assert opened(session, charlie) == 1
    client.get(path, headers=NAVIGATE)  # a reload
    assert opened(session, charlie) == 1


def test_without_fetch_metadata_a_request_counts_unless_it_says_prefetch(client, session, reader):
    charlie, _, path = reader
    client.get(path, headers={"Purpose": "prefetch"})
    assert opened(session, charlie) == 0
    client.get(path)  # an old browser, or a test client: taken at its word
    assert opened(session, charlie) == 1


def test_a_navigation_by_destination_or_mode_alone_counts(client, session, factory, reader):
    charlie, norm, path = reader
    client.get(path, headers={"Sec-Fetch-Dest": "document"})
    assert opened(session, charlie) == 1
    other = factory.norm(norm.community, title="Say where a claim comes from")
    client.get(
        f"/c/{norm.community.slug}/norms/{other.slug}", headers={"Sec-Fetch-Mode": "navigate"}
    )
    assert opened(session, charlie) == 2


def checks(session) -> int:
    session.rollback()
    try:
        return session.scalar(select(func.count(ExposureCheck.id)))
    finally:
        session.commit()


def test_no_image_or_link_makes_an_api_check_in_the_viewers_name(client, session, factory, reader):
    charlie, norm, _ = reader
    url = f"/api/v1/communities/{norm.community.slug}/norms/{norm.slug}/exposure/{norm.author_id}"
    for headers in (
        NOT_A_VISIT["an <img>"],
        NOT_A_VISIT["an <iframe>"],
        {"Purpose": "prefetch"},
        NAVIGATE,  # a link followed, in a comment say: the person did not ask for a check
    ):
        refused = client.get(url, headers=headers)
        assert refused.status_code == 403
        assert "only from a script (fetch)" in refused.get_json()["error"]["message"]
    assert checks(session) == 0
    # The signed-in person's own script asks (fetch: destination "empty"): a check.
    asked = client.get(url, headers=NOT_A_VISIT["a script's fetch()"])
    assert asked.status_code == 200 and asked.get_json()["subject"]["display_name"] == "Ada"
    assert checks(session) == 1
