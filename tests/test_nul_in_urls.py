"""A NUL (or any control character) in a URL names nothing: a 404, never a 500.

PostgreSQL refuses a NUL in a query parameter, so every string a URL names
something by (a community, a norm, a member, an invite or unsubscribe token)
must be refused before it reaches a query. Path parts are refused by the
routes' default converter; strings from query arguments by the lookups.
"""

from __future__ import annotations

import pytest
from flask import Flask

from normhub.accounts.services import find_user_by_email
from normhub.api.services import resolve_check
from normhub.communities.invites import create_invite, find_usable_invite
from normhub.communities.services import get_visible_community
from normhub.errors import NotFound
from normhub.ids import PathPartConverter
from normhub.norms.services import get_norm
from tests.search_helpers import add_comment

NUL = "\x00"


@pytest.fixture
def world(factory, session):
    admin = factory.user("Site Admin", admin=True)
    community = factory.community(admin, visibility="members", join_policy="invite")
    norm = factory.norm(community, factory.member(community, admin, role="admin"))
    member = factory.member(community, name="Member")
    comment = add_comment(session, norm, member, "A comment.")
    invite = create_invite(session, community, admin)
    session.commit()
    values = {
        "slug": community.slug,
        "community_slug": community.slug,
        "norm_ref": norm.slug,
        "member_ref": str(member.id),
        "user_id": member.id,
        "handle": member.handle,
        "part": "proposed",
        "comment_id": comment.id,
        "invite_id": invite.id,
        "number": 1,
        "token": invite.token,
        "check_id": 1,  # a path part of the id kind: never a free string
        "login_id": 1,
        "review_id": 1,
    }
    return admin, community, norm, member, values


def _named_by_strings(app: Flask):
    """(rule, method, argument) for each route argument that is a free string."""
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if isinstance(converter, PathPartConverter):
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    yield rule, method, name


def test_every_path_part_is_guarded(app):
    routes = {(rule.rule, name) for rule, _, name in _named_by_strings(app)}
    # The routes this file must cover; a new one is covered automatically.
    assert ("/invite/<token>", "token") in routes
    assert ("/c/<slug>", "slug") in routes
    assert ("/c/<slug>/norms/<norm_ref>", "norm_ref") in routes
    api = "/api/v1/communities/<community_slug>/norms/<norm_ref>/exposure/<member_ref>"
    assert {(api, "community_slug"), (api, "norm_ref"), (api, "member_ref")} <= routes
    assert len(routes) >= 30


@pytest.mark.parametrize("char", [NUL, "\x1f"])
def test_a_control_character_in_any_path_part_is_a_404(app, client, login_as, world, char):
    admin, _, _, _, values = world
    login_as(admin)  # may see and do everything: only the NUL can make it a 404
    adapter = app.url_map.bind("normhub.test")
    checked = 0
    for rule, method, name in _named_by_strings(app):
        url = adapter.build(rule.endpoint, {**values, name: f"x{char}y"}, method=method)
        assert "%00" in url or "%1F" in url
        response = client.open(url, method=method)
        assert response.status_code == 404, (method, url, response.status_code)
        if url.startswith("/api/"):
            assert response.get_json()["error"]["status"] == 404
        checked += 1
    assert checked >= 35


def test_the_same_routes_answer_without_the_nul(client, login_as, world):
    admin, community, norm, member, _ = world
    login_as(admin)
    for url in (
        f"/c/{community.slug}",
        f"/c/{community.slug}/norms/{norm.slug}",
        f"/api/v1/communities/{community.slug}/norms/{norm.slug}/coverage",
        f"/api/v1/communities/{community.slug}/norms/{norm.slug}/exposure/{member.id}",
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("query", ["/exposure/check?community=x%00", "/queue?community=x%00"])
def test_a_nul_in_a_query_argument_that_names_something_is_a_404(client, login_as, world, query):
    admin, community, norm, _, _ = world
    login_as(admin)
    assert client.get(query.format(c=community.slug, n=norm.slug)).status_code == 404


@pytest.mark.parametrize(
    "fields",
    [{"norm": "x\x00", "member": "1"}, {"norm": "{n}", "member": "1\x00"}],
)
def test_a_nul_in_a_check_naming_a_norm_or_person_is_refused_not_a_500(
    client, login_as, world, fields
):
    admin, community, norm, _, _ = world
    login_as(admin)
    data = {"community": community.slug, **{k: v.format(n=norm.slug) for k, v in fields.items()}}
    response = client.post("/exposure/check", data=data)
    assert response.status_code in (400, 404), response.status_code


def test_a_nul_in_a_filter_falls_back_to_no_filter(client, login_as, world):
    admin, community, norm, _, _ = world
    login_as(admin)
    response = client.get(f"/c/{community.slug}?tag=x%00")
    assert response.status_code == 200
    assert norm.title in response.get_data(as_text=True)


def test_lookups_refuse_a_nul_before_any_query(session, world):
    admin, community, norm, member, _ = world
    with pytest.raises(NotFound):
        get_visible_community(session, f"{community.slug}{NUL}", admin)
    with pytest.raises(NotFound):
        get_norm(session, community, f"{norm.slug}{NUL}")
    with pytest.raises(NotFound):
        find_usable_invite(session, f"token{NUL}")
    assert find_user_by_email(session, f"{member.email}{NUL}") is None
    for refs in (
        (f"{community.slug}{NUL}", norm.slug, str(member.id)),
        (community.slug, f"{norm.slug}{NUL}", str(member.id)),
        (community.slug, norm.slug, f"{member.email}{NUL}"),
    ):
        with pytest.raises(NotFound):
            resolve_check(session, *refs, caller=admin)
    # The session is still usable: no statement failed on the database.
    assert get_norm(session, community, norm.slug).id == norm.id
