"""The Atom feed of a community."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from normhub.norms.services import change_status

ATOM = "{http://www.w3.org/2005/Atom}"


def parse(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 (the document is our own output)


def test_feed_is_valid_atom_with_proposals_and_status_changes(client, factory, session):
    community = factory.community()
    author = factory.member(community, name="Feed Author")
    norm = factory.norm(community, author, status="draft", title="Label <the> leftovers & dates")
    change_status(session, norm, author, "open", note="Ready for comments.")
    session.commit()

    response = client.get(f"/c/{community.slug}/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = parse(response.data)
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}title").startswith(community.name)
    assert root.findtext(f"{ATOM}id") == f"http://normhub.test/c/{community.slug}"
    assert root.find(f"{ATOM}updated").text.endswith("Z")
    self_link = root.find(f"{ATOM}link[@rel='self']")
    assert self_link.get("href") == f"http://normhub.test/c/{community.slug}/feed.atom"

    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    titles = [entry.findtext(f"{ATOM}title") for entry in entries]
    assert "Proposed: Label <the> leftovers & dates" in titles
    assert "Label <the> leftovers & dates: Draft → Open for discussion" in titles
    ids = [entry.findtext(f"{ATOM}id") for entry in entries]
    assert len(set(ids)) == 2
    for entry in entries:
        assert entry.find(f"{ATOM}link").get("href").startswith("http://normhub.test/c/")
        assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Feed Author"
        assert entry.findtext(f"{ATOM}updated").endswith("Z")
    summaries = {e.findtext(f"{ATOM}title"): e.findtext(f"{ATOM}summary") for e in entries}
    assert summaries["Label <the> leftovers & dates: Draft → Open for discussion"] == (
        "Ready for comments."
    )


def test_feed_of_empty_community_parses(client, factory):
    community = factory.community()
    root = parse(client.get(f"/c/{community.slug}/feed.atom").data)
    assert root.findall(f"{ATOM}entry") == []
    assert root.findtext(f"{ATOM}updated")


def test_feed_leaves_out_other_communities(client, factory):
    community = factory.community()
    elsewhere = factory.community()
    factory.norm(elsewhere, title="Somewhere else")
    root = parse(client.get(f"/c/{community.slug}/feed.atom").data)
    assert root.findall(f"{ATOM}entry") == []


def test_members_only_feed_is_404_even_for_members(client, factory, login_as):
    community = factory.community(visibility="members")
    member = factory.member(community)
    factory.norm(community, member, title="Private matter")
    anonymous = client.get(f"/c/{community.slug}/feed.atom")
    assert anonymous.status_code == 404
    assert "Private matter" not in anonymous.get_data(as_text=True)
    # Feeds are fetched without a login, so they never show members-only content.
    login_as(member)
    assert client.get(f"/c/{community.slug}/feed.atom").status_code == 404


def test_public_community_page_advertises_its_feed(client, factory):
    community = factory.community()
    html = client.get(f"/c/{community.slug}").get_data(as_text=True)
    assert 'type="application/atom+xml"' in html
    assert f"/c/{community.slug}/feed.atom" in html
