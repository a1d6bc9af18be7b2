"""A community's about page: its purpose, who looks after it, its in-force gate and its size;
a members-only community's is a 404 to everyone outside it."""

from __future__ import annotations

import re

from normhub.accounts.deletion import delete_account
from normhub.communities.services import leave
from tests.conftest import login


def steward_links(page: str) -> list[tuple[str, str, str]]:
    """(member page, name, role) of each person the "who looks after it" list names."""
    listed = re.search(r'<ul class="about-stewards">(.*?)</ul>', page, re.S).group(1)
    return re.findall(
        r'<li><a href="(/members/[^"]+)">([^<]+)</a> <span class="muted">(\w+)</span></li>', listed
    )


def test_the_about_page_says_what_the_community_is_and_how_it_decides(client, factory, session):
    owner = factory.user("Olga Owner")
    community = factory.community(
        owner, coverage_threshold_pct=60, coverage_min_responses=4, max_open_norms=3
    )
    community.description = "For the allotment holders.\nWe share tools and water."
    steward = factory.member(community, role="steward", name="Sam Steward")
    admin = factory.member(community, role="admin", name="Ada Admin")
    factory.member(community, name="Max Member")
    gone = factory.member(community, role="steward", name="Lea Left")
    leave(session, community, gone)
    factory.norm(community, steward, title="Close the gate", status="open")
    factory.norm(community, steward, title="Water at dusk", status="open").status = "in_force"
    factory.norm(community, steward, title="Still a draft", status="draft")
    session.commit()

    response = client.get(f"/c/{community.slug}/about")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<p class="about-description">For the allotment holders.\nWe share tools' in page
    # Admins first, then stewards, each by name, linking to their member pages;
    # plain members and those who left are not listed.
    assert steward_links(page) == [
        (f"/members/{admin.handle}", "Ada Admin", "admin"),
        (f"/members/{owner.handle}", "Olga Owner", "admin"),
        (f"/members/{steward.handle}", "Sam Steward", "steward"),
    ]
    assert "Max Member" not in page and "Lea Left" not in page
    gate = re.search(r'<dd id="about-gate">(.*?)</dd>', page, re.S).group(1)
    assert "once 60% of members have understood its current version" in gate
    assert "at least 4 responses" in gate
    # Olga, Sam, Ada and Max: Lea left.
    assert '<dd id="about-member-count">4 members</dd>' in page
    assert "At most 3 norms open for discussion" in page
    assert "1 in force, 1 open for discussion" in page
    # The community's page links to it.
    assert f'href="/c/{community.slug}/about"' in client.get(f"/c/{community.slug}").get_data(
        as_text=True
    )


def test_a_deleted_steward_is_not_named(client, factory, session):
    community = factory.community()
    steward = factory.member(community, role="steward", name="Dora Deleted")
    delete_account(session, steward, factory.PASSWORD)
    session.commit()
    page = client.get(f"/c/{community.slug}/about").get_data(as_text=True)
    assert "Dora Deleted" not in page
    assert [name for _, name, _ in steward_links(page)] == ["Owner"]


def test_a_members_only_community_is_about_nobody_outside_it(client, factory, session):
    owner = factory.user("Olga Owner")
    hidden = factory.community(owner, visibility="members", join_policy="invite")
    hidden.description = "Secret purpose"
    member = factory.member(hidden, name="Inge Insider")
    outsider = factory.user("Otto Outsider")
    session.commit()
    url = f"/c/{hidden.slug}/about"

    anonymous = client.get(url)
    assert anonymous.status_code == 404
    assert "Secret purpose" not in anonymous.get_data(as_text=True)
    login(client, outsider)
    refused = client.get(url)
    assert refused.status_code == 404
    assert hidden.name not in refused.get_data(as_text=True)

    login(client, member)
    page = client.get(url).get_data(as_text=True)
    assert "Secret purpose" in page
    assert "Its members only; joined by invite link" in page


def test_an_unknown_community_has_no_about_page(client):
    assert client.get("/c/no-such-place/about").status_code == 404
