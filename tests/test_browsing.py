"""The norm index of a community: filters, sorting and pagination."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from normhub.forum.browse import NormFilters, norm_index
from normhub.norms.services import change_status, revise_norm
from normhub.responses.services import record_response


@pytest.fixture
def app_overrides() -> dict:
    return {"PAGE_SIZE": 2}


@dataclass
class World:
    community: object
    author: object
    reader: object
    other: object
    alpha: object  # open, responded by reader on v1 then revised to v2
    bravo: object  # draft, nobody responded
    charlie: object  # in force, reader responded to the current version
    delta: object  # open, only `other` responded
    withdrawn: object


@pytest.fixture
def world(factory, session) -> World:
    community = factory.community()
    author = factory.member(community, name="Author")
    reader = factory.member(community, name="Reader")
    other = factory.member(community, name="Other")
    alpha = factory.norm(community, author, title="Alpha rule", tags=["statistics", "evidence"])
    bravo = factory.norm(community, author, status="draft", title="Bravo rule", tags=["kitchen"])
    charlie = factory.norm(
        community, author, status="in_force", title="Charlie rule", tags=["safety"]
    )
    delta = factory.norm(community, author, title="Delta rule", tags=["kitchen"])
    withdrawn = factory.norm(community, author, status="draft", title="Echo withdrawn")
    change_status(session, withdrawn, author, "withdrawn")

    record_response(session, alpha, reader, "yes", "endorse")
    record_response(session, alpha, other, "partly", "undecided")
    record_response(session, alpha, other, "yes", "endorse")  # same person twice: counts once
    record_response(session, charlie, reader, "yes", "endorse")
    record_response(session, delta, other, "no", "reject")
    revise_norm(
        session,
        alpha,
        author,
        factory.draft(
            title="Alpha rule", body="A rewritten essay.", tags=["statistics", "evidence"]
        ),
        "Rewrote the essay.",
        True,
    )
    # Fixed times make the orderings below unambiguous.
    start = datetime(2026, 1, 1, 12, 0)
    for offset, norm in enumerate([alpha, bravo, charlie, delta, withdrawn]):
        norm.created_at = start + timedelta(days=offset)
    alpha.last_activity_at = start + timedelta(days=30)
    bravo.last_activity_at = start + timedelta(days=10)
    charlie.last_activity_at = start + timedelta(days=20)
    delta.last_activity_at = start + timedelta(days=5)
    withdrawn.last_activity_at = start + timedelta(days=40)
    session.commit()
    return World(community, author, reader, other, alpha, bravo, charlie, delta, withdrawn)


def titles(session, world, viewer=None, per_page=50, number=1, **args):
    filters = NormFilters.from_args(MultiDict(args), viewer)
    page = norm_index(session, world.community, viewer, filters, number, per_page)
    return [row.norm.title for row in page.items]


def page_titles(html: str) -> list[str]:
    return re.findall(r'<h2 class="norm-title"><a [^>]*>([^<]+)</a>', html)


# --- service level --------------------------------------------------------------------------


def test_default_hides_withdrawn_and_sorts_by_last_activity(session, world):
    assert titles(session, world) == ["Alpha rule", "Charlie rule", "Bravo rule", "Delta rule"]


def test_status_filter(session, world):
    assert titles(session, world, status="open") == ["Alpha rule", "Delta rule"]
    assert titles(session, world, status="draft") == ["Bravo rule"]
    assert titles(session, world, status="in_force") == ["Charlie rule"]
    assert titles(session, world, status="withdrawn") == ["Echo withdrawn"]
    assert len(titles(session, world, status="all")) == 5
    # Nonsense falls back to the default rather than failing.
    assert len(titles(session, world, status="bogus")) == 4


def test_tag_filter(session, world):
    assert titles(session, world, tag="kitchen") == ["Bravo rule", "Delta rule"]
    assert titles(session, world, tag="Evidence") == ["Alpha rule"]
    assert titles(session, world, tag="nothing-like-this") == []


def test_not_responded_filter(session, world):
    assert titles(session, world, world.reader, mine="not_responded") == [
        "Bravo rule",
        "Delta rule",
    ]
    assert titles(session, world, world.other, mine="not_responded") == [
        "Charlie rule",
        "Bravo rule",
    ]
    # Anonymous visitors have no responses: the filter is ignored for them.
    assert len(titles(session, world, None, mine="not_responded")) == 4


def test_changed_since_my_response_filter(session, world):
    assert titles(session, world, world.reader, mine="changed") == ["Alpha rule"]
    # `other` last responded to Alpha on v1 too.
    assert titles(session, world, world.other, mine="changed") == ["Alpha rule"]
    record_response(session, world.alpha, world.reader, "yes", "endorse")  # now on v2
    session.commit()
    assert titles(session, world, world.reader, mine="changed") == []
    assert titles(session, world, world.author, mine="changed") == []


def test_filters_combine(session, world):
    assert titles(session, world, world.reader, tag="kitchen", mine="not_responded") == [
        "Bravo rule",
        "Delta rule",
    ]
    assert titles(session, world, world.reader, status="open", mine="not_responded") == [
        "Delta rule"
    ]


def test_sorting(session, world):
    assert titles(session, world, sort="newest") == [
        "Delta rule",
        "Charlie rule",
        "Bravo rule",
        "Alpha rule",
    ]
    assert titles(session, world, sort="title") == [
        "Alpha rule",
        "Bravo rule",
        "Charlie rule",
        "Delta rule",
    ]
    by_responses = titles(session, world, sort="responses")
    assert by_responses[0] == "Alpha rule"  # two distinct people
    # Charlie and Delta have one each (ties broken by last activity), Bravo none.
    assert by_responses[1:] == ["Charlie rule", "Delta rule", "Bravo rule"]


def test_row_counts_distinct_responders_and_my_version(session, world):
    filters = NormFilters.from_args(MultiDict(), world.reader)
    page = norm_index(session, world.community, world.reader, filters, 1, 50)
    rows = {row.norm.title: row for row in page.items}
    assert rows["Alpha rule"].responder_count == 2
    assert rows["Alpha rule"].my_version == 1
    assert rows["Alpha rule"].changed_since_my_response
    assert rows["Charlie rule"].my_version == 1
    assert not rows["Charlie rule"].changed_since_my_response
    assert rows["Bravo rule"].responder_count == 0 and rows["Bravo rule"].my_version is None


def test_pagination_counts_after_filtering(session, world):
    first = titles(session, world, per_page=3, number=1)
    second = titles(session, world, per_page=3, number=2)
    assert first == ["Alpha rule", "Charlie rule", "Bravo rule"]
    assert second == ["Delta rule"]
    filters = NormFilters.from_args(MultiDict({"mine": "not_responded"}), world.reader)
    page = norm_index(session, world.community, world.reader, filters, 1, 1)
    # The filter is part of the SQL: the total and page count reflect it.
    assert (page.total, page.pages, len(page.items)) == (2, 2, 1)
    assert page.has_next and not page.has_previous


def test_other_communities_norms_never_appear(session, world, factory):
    elsewhere = factory.community()
    factory.norm(elsewhere, title="Foreign rule")
    assert "Foreign rule" not in titles(session, world, status="all")


# --- pages ----------------------------------------------------------------------------------


def test_index_page_paginates(client, world):
    url = f"/c/{world.community.slug}"
    first = client.get(url).get_data(as_text=True)
    assert page_titles(first) == ["Alpha rule", "Charlie rule"]
    assert "Page 1 of 2" in first
    assert 'rel="next"' in first
    second = client.get(f"{url}?page=2").get_data(as_text=True)
    assert page_titles(second) == ["Bravo rule", "Delta rule"]
    assert 'rel="prev"' in second
    # An absurd page number shows an empty page, not an error.
    assert client.get(f"{url}?page=999").status_code == 200
    assert client.get(f"{url}?page=abc").status_code == 200


def test_index_page_filters_and_sorts(client, world):
    url = f"/c/{world.community.slug}"
    assert page_titles(client.get(f"{url}?status=open").get_data(as_text=True)) == [
        "Alpha rule",
        "Delta rule",
    ]
    assert page_titles(client.get(f"{url}?tag=kitchen").get_data(as_text=True)) == [
        "Bravo rule",
        "Delta rule",
    ]
    assert page_titles(client.get(f"{url}?sort=title").get_data(as_text=True)) == [
        "Alpha rule",
        "Bravo rule",
    ]
    empty = client.get(f"{url}?tag=unused").get_data(as_text=True)
    assert "No norms match these filters." in empty


def test_index_page_shows_badges_tags_and_counts(client, world):
    html = client.get(f"/c/{world.community.slug}?status=open").get_data(as_text=True)
    assert 'class="badge status-open"' in html
    assert "#statistics" in html
    assert "2 people responded" in html
    assert "1 person responded" in html


def test_my_response_filters_on_page(client, world, login_as):
    url = f"/c/{world.community.slug}"
    anonymous = client.get(url).get_data(as_text=True)
    assert "I have not responded" not in anonymous
    login_as(world.reader)
    page = client.get(f"{url}?mine=not_responded").get_data(as_text=True)
    assert page_titles(page) == ["Bravo rule", "Delta rule"]
    changed = client.get(f"{url}?mine=changed").get_data(as_text=True)
    assert page_titles(changed) == ["Alpha rule"]
    assert "Changed since you responded (v1)" in changed
