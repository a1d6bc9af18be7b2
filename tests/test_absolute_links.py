"""Absolute links come from NORMHUB_BASE_URL, never from the request's Host header.

Anyone can send any Host. A feed, an invite link or an example that copied
it would send readers to another site, and a cache in front of NormHub could
serve that answer to everyone.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import pytest

from normhub.communities.invites import create_invite

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "https://norms.example.org"
FORGED = {"Host": "evil.example"}


@pytest.fixture
def app_overrides():
    # No SERVER_NAME: the app answers whatever Host it is sent, as behind a proxy.
    return {"SERVER_NAME": None, "BASE_URL": BASE + "/"}


def test_feed_links_use_the_base_url_whatever_the_host(client, factory):
    community = factory.community()
    norm = factory.norm(community)
    response = client.get(f"/c/{community.slug}/feed.atom", headers=FORGED)
    assert response.status_code == 200
    assert b"evil.example" not in response.data
    root = ET.fromstring(response.data)  # noqa: S314 (our own output)
    assert root.findtext(f"{ATOM}id") == f"{BASE}/c/{community.slug}"
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == (
        f"{BASE}/c/{community.slug}/feed.atom"
    )
    assert root.find(f"{ATOM}link[@rel='alternate']").get("href") == f"{BASE}/c/{community.slug}"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2  # proposed, then opened for discussion
    for entry in entries:
        link = entry.find(f"{ATOM}link").get("href")
        assert link == f"{BASE}/c/{community.slug}/norms/{norm.slug}"
        assert entry.findtext(f"{ATOM}id").startswith(f"{BASE}/c/{community.slug}#")


def test_invite_links_and_the_api_example_use_the_base_url(client, factory, session):
    owner = factory.user()
    community = factory.community(owner, join_policy="invite")
    invite = create_invite(session, community, owner)
    session.commit()
    # The whole visit on the forged host, so the login cookie goes along.
    data = {"email": owner.email, "password": factory.PASSWORD}
    assert client.post("/login", data=data, headers=FORGED).status_code == 302
    page = client.get(f"/c/{community.slug}/invites", headers=FORGED).get_data(as_text=True)
    assert "evil.example" not in page
    assert re.search(rf'value="{re.escape(BASE)}/invite/{re.escape(invite.token)}"', page)
    created = client.post("/settings/tokens", data={"name": "laptop"}, headers=FORGED)
    assert created.status_code == 303
    response = client.get(created.headers["Location"], headers=FORGED)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "evil.example" not in page
    assert f"{BASE}/api/v1/communities/" in page
