"""Communities: creation, visibility, joining and leaving, invites, settings and roles."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from normhub.communities import invites, services
from normhub.communities.models import Community, Invite, Membership
from normhub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from normhub.forum import services as forum_services
from normhub.norms.services import change_status


def _settings(community: Community, **changes) -> dict:
    data = {
        "name": community.name,
        "description": community.description,
        "visibility": community.visibility,
        "join_policy": community.join_policy,
        "coverage_threshold_pct": str(community.coverage_threshold_pct),
        "coverage_min_responses": str(community.coverage_min_responses),
        "max_open_norms": "",
        "max_open_per_author": "",
    }
    data.update(changes)
    return data


def fresh(session, model, ident):
    """Reload one row as the server sees it now, and hold no SQLite lock afterwards."""
    session.commit()
    row = session.get(model, ident, populate_existing=True)
    session.commit()
    return row


def _membership(session, community, user) -> Membership | None:
    session.commit()
    membership = session.scalar(
        select(Membership)
        .where(
            Membership.community_id == community.id,
            Membership.user_id == user.id,
            Membership.left_at.is_(None),
        )
        .execution_options(populate_existing=True)
    )
    session.commit()
    return membership


# --- index and visibility -------------------------------------------------------------------


def test_index_lists_visible_communities_with_counts(client, factory, login_as):
    owner = factory.user("Owner")
    public = factory.community(owner)
    author = factory.member(public)
    factory.norm(public, author, status="open")
    factory.norm(public, author, status="draft", title="Second")
    withdrawn = factory.norm(public, author, status="draft", title="Withdrawn, not counted")
    change_status(factory.session, withdrawn, author, "withdrawn")
    factory.session.commit()
    hidden = factory.community(owner, visibility="members")

    page = client.get("/communities").get_data(as_text=True)
    assert public.name in page
    assert "2 members" in page
    assert "2 norms" in page
    assert "1 open" in page
    assert hidden.name not in page
    assert hidden.slug not in page

    login_as(owner)
    page = client.get("/communities").get_data(as_text=True)
    assert hidden.name in page


def test_summaries_service_respects_visibility(session, factory):
    owner = factory.user()
    outsider = factory.user()
    site_admin = factory.user(admin=True)
    public = factory.community(owner)
    hidden = factory.community(owner, visibility="members")

    def names(viewer):
        return {s.community.id for s in forum_services.community_summaries(session, viewer)}

    assert names(None) == {public.id}
    assert names(outsider) == {public.id}
    assert names(owner) == {public.id, hidden.id}
    assert names(site_admin) == {public.id, hidden.id}


def test_members_only_community_is_404_to_outsiders_everywhere(client, factory, login_as):
    owner = factory.user()
    hidden = factory.community(owner, visibility="members", join_policy="invite")
    factory.norm(hidden, title="Inside voice")
    paths = [
        f"/c/{hidden.slug}",
        f"/c/{hidden.slug}/feed.atom",
        f"/c/{hidden.slug}/settings",
        f"/c/{hidden.slug}/invites",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 404, path
        assert hidden.name not in response.get_data(as_text=True)
    for path in (f"/c/{hidden.slug}/join", f"/c/{hidden.slug}/leave"):
        assert client.post(path).status_code == 404

    login_as(factory.user("Outsider"))
    for path in paths:
        response = client.get(path)
        assert response.status_code == 404, path
        assert hidden.name not in response.get_data(as_text=True)
    assert client.post(f"/c/{hidden.slug}/join").status_code == 404


def test_members_only_community_visible_to_members(client, factory, login_as):
    hidden = factory.community(visibility="members")
    factory.norm(hidden, title="Inside voice")
    login_as(factory.member(hidden))
    page = client.get(f"/c/{hidden.slug}")
    assert page.status_code == 200
    assert "Inside voice" in page.get_data(as_text=True)


def test_unknown_community_is_404(client):
    assert client.get("/c/no-such-place").status_code == 404
    assert client.get("/c/no-such-place/settings").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in_for_member_actions(client, factory):
    community = factory.community()
    settings = client.get(f"/c/{community.slug}/settings")
    assert settings.status_code == 302
    assert "/login?next=" in settings.headers["Location"]
    assert "settings" in settings.headers["Location"]
    join = client.post(f"/c/{community.slug}/join")
    assert join.status_code == 302
    assert join.headers["Location"].endswith(f"/login?next=/c/{community.slug}")


# --- creating -------------------------------------------------------------------------------


def test_create_community_page_makes_creator_admin(client, factory, login_as, session):
    user = factory.user()
    login_as(user)
    assert client.get("/communities/new").status_code == 200
    response = client.post(
        "/communities/new",
        data={
            "name": "Night Shift Crew",
            "slug": "",
            "description": "For people who work nights.",
            "visibility": "members",
            "join_policy": "invite",
        },
    )
    assert response.status_code == 302
    community = session.query(Community).filter_by(slug="night-shift-crew").one()
    session.commit()
    assert community.visibility == "members" and community.join_policy == "invite"
    assert _membership(session, community, user).role == "admin"
    assert response.headers["Location"].endswith("/c/night-shift-crew")


def test_create_community_refuses_taken_address_and_bad_input(client, factory, login_as):
    existing = factory.community()
    login_as(factory.user())
    taken = client.post(
        "/communities/new",
        data={
            "name": "Again",
            "slug": existing.slug,
            "visibility": "public",
            "join_policy": "open",
        },
    )
    assert taken.status_code == 400
    assert "A community with this address already exists." in taken.get_data(as_text=True)
    bad = client.post(
        "/communities/new",
        data={"name": "", "slug": "Bad Slug!", "visibility": "secret", "join_policy": "open"},
    )
    assert bad.status_code == 400
    assert "lowercase letters, digits and dashes" in bad.get_data(as_text=True)


def test_create_community_requires_login(client):
    response = client.get("/communities/new")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# --- joining and leaving --------------------------------------------------------------------


def test_join_open_community_and_leave(client, factory, login_as, session):
    community = factory.community()
    user = factory.user()
    login_as(user)
    page = client.get(f"/c/{community.slug}").get_data(as_text=True)
    assert "Join this community" in page
    assert client.post(f"/c/{community.slug}/join").status_code == 302
    assert _membership(session, community, user).role == "member"
    # Joining twice is refused politely, not with an error page.
    again = client.post(f"/c/{community.slug}/join", follow_redirects=True)
    assert "already a member" in again.get_data(as_text=True)
    assert client.post(f"/c/{community.slug}/leave").status_code == 302
    assert _membership(session, community, user) is None


def test_join_refused_for_invite_only_community(client, factory, login_as, session):
    community = factory.community(join_policy="invite")
    user = factory.user()
    login_as(user)
    page = client.get(f"/c/{community.slug}").get_data(as_text=True)
    assert "Join this community" not in page
    response = client.post(f"/c/{community.slug}/join")
    assert response.status_code == 403
    assert "invite link" in response.get_data(as_text=True)
    assert _membership(session, community, user) is None
    with pytest.raises(Forbidden):
        services.join_open(session, community, user)


def test_leaving_members_only_community_hides_it_again(client, factory, login_as):
    community = factory.community(visibility="members")
    user = factory.member(community)
    login_as(user)
    response = client.post(f"/c/{community.slug}/leave")
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "http://normhub.test/")
    assert client.get(f"/c/{community.slug}").status_code == 404


def test_only_admin_cannot_leave_members_behind(session, factory):
    owner = factory.user()
    community = factory.community(owner)
    factory.member(community)
    with pytest.raises(Conflict):
        services.leave(session, community, owner)


# --- invites --------------------------------------------------------------------------------


def test_invite_create_accept_revoke(client, factory, login_as, session):
    owner = factory.user("Owner")
    community = factory.community(owner, visibility="members", join_policy="invite")
    login_as(owner)
    created = client.post(f"/c/{community.slug}/invites", follow_redirects=True)
    assert created.status_code == 200
    invite = session.query(Invite).filter_by(community_id=community.id).one()
    session.commit()
    full_url = f"http://normhub.test/invite/{invite.token}"
    assert full_url in created.get_data(as_text=True)
    client.post("/logout")

    # Anonymous visitors see the invitation and are asked to log in.
    landing = client.get(f"/invite/{invite.token}").get_data(as_text=True)
    assert community.name in landing and "log in" in landing

    guest = factory.user("Guest")
    login_as(guest)
    assert "Accept and join" in client.get(f"/invite/{invite.token}").get_data(as_text=True)
    accepted = client.post(f"/invite/{invite.token}")
    assert accepted.status_code == 302
    assert accepted.headers["Location"].endswith(f"/c/{community.slug}")
    assert _membership(session, community, guest) is not None
    assert fresh(session, Invite, invite.id).uses == 1
    assert client.get(f"/c/{community.slug}").status_code == 200
    client.post("/logout")

    login_as(owner)
    revoke = client.post(f"/c/{community.slug}/invites/{invite.id}/revoke")
    assert revoke.status_code == 302
    assert fresh(session, Invite, invite.id).revoked_at is not None
    listing = client.get(f"/c/{community.slug}/invites").get_data(as_text=True)
    assert full_url not in listing and "Revoked" in listing
    client.post("/logout")

    latecomer = factory.user("Latecomer")
    login_as(latecomer)
    for response in (client.get(f"/invite/{invite.token}"), client.post(f"/invite/{invite.token}")):
        assert response.status_code == 404
        assert "This invite link is not valid" in response.get_data(as_text=True)
    assert _membership(session, community, latecomer) is None


def test_unknown_invite_token_is_404(client):
    response = client.get("/invite/not-a-real-token")
    assert response.status_code == 404
    assert "This invite link is not valid" in response.get_data(as_text=True)


def test_only_stewards_manage_invites(client, factory, login_as, session):
    community = factory.community()
    member = factory.member(community)
    steward = factory.member(community, role="steward")
    with pytest.raises(Forbidden):
        invites.create_invite(session, community, member)
    invite = invites.create_invite(session, community, steward)
    session.commit()
    login_as(member)
    assert client.get(f"/c/{community.slug}/invites").status_code == 403
    assert client.post(f"/c/{community.slug}/invites").status_code == 403
    assert client.post(f"/c/{community.slug}/invites/{invite.id}/revoke").status_code == 403
    assert fresh(session, Invite, invite.id).revoked_at is None
    assert session.query(Invite).count() == 1


def test_invite_of_another_community_cannot_be_revoked_through_mine(
    client, factory, login_as, session
):
    my_admin = factory.user()
    mine = factory.community(my_admin)
    other_admin = factory.user()
    other = factory.community(other_admin)
    foreign = invites.create_invite(session, other, other_admin)
    session.commit()
    login_as(my_admin)
    assert client.post(f"/c/{mine.slug}/invites/{foreign.id}/revoke").status_code == 404
    assert fresh(session, Invite, foreign.id).revoked_at is None


# --- settings and roles ---------------------------------------------------------------------


def test_settings_page_updates_community(client, factory, login_as, session):
    owner = factory.user()
    community = factory.community(owner)
    login_as(owner)
    assert client.get(f"/c/{community.slug}/settings").status_code == 200
    response = client.post(
        f"/c/{community.slug}/settings",
        data=_settings(
            community,
            name="Renamed",
            description="New words.",
            visibility="members",
            join_policy="invite",
            coverage_threshold_pct="60",
            coverage_min_responses="0",
            max_open_norms="5",
            max_open_per_author="",
        ),
    )
    assert response.status_code == 302
    updated = fresh(session, Community, community.id)
    assert (updated.name, updated.description) == ("Renamed", "New words.")
    assert (updated.visibility, updated.join_policy) == ("members", "invite")
    assert (updated.coverage_threshold_pct, updated.coverage_min_responses) == (60, 0)
    assert (updated.max_open_norms, updated.max_open_per_author) == (5, None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"coverage_threshold_pct": "101"}, "Enter a percentage from 0 to 100."),
        ({"coverage_threshold_pct": ""}, "Enter a percentage from 0 to 100."),
        ({"coverage_min_responses": "-1"}, "Enter a number from 0 to 100,000."),
        ({"coverage_min_responses": str(2**31)}, "Enter a number from 0 to 100,000."),
        ({"coverage_min_responses": "100001"}, "Enter a number from 0 to 100,000."),
        ({"coverage_min_responses": "9" * 40}, "Enter a number from 0 to 100,000."),
        ({"max_open_norms": "0"}, "Enter a number from 1 to 1,000, or leave blank for no cap."),
        ({"max_open_norms": str(2**31)}, "Enter a number from 1 to 1,000"),
        ({"max_open_per_author": "1001"}, "Enter a number from 1 to 1,000"),
        ({"max_open_per_author": str(2**63)}, "Enter a number from 1 to 1,000"),
        ({"name": ""}, "This field is required."),
        ({"visibility": "secret"}, "Not a valid choice"),
    ],
)
def test_settings_page_validates(client, factory, login_as, session, changes, message):
    owner = factory.user()
    community = factory.community(owner)
    login_as(owner)
    response = client.post(f"/c/{community.slug}/settings", data=_settings(community, **changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert fresh(session, Community, community.id).coverage_threshold_pct == 75


def test_update_settings_service_validates_ranges(session, factory):
    owner = factory.user()
    community = factory.community(owner)
    base = services.CommunitySettings(
        name="X",
        description="",
        visibility="public",
        join_policy="open",
        coverage_threshold_pct=50,
        coverage_min_responses=1,
        max_open_norms=None,
        max_open_per_author=None,
    )
    from dataclasses import replace

    for bad, field in (
        (replace(base, coverage_threshold_pct=-1), "coverage_threshold_pct"),
        (replace(base, coverage_min_responses=-3), "coverage_min_responses"),
        (replace(base, max_open_per_author=0), "max_open_per_author"),
        (replace(base, coverage_min_responses=2**31), "coverage_min_responses"),
        (replace(base, coverage_min_responses=100_001), "coverage_min_responses"),
        (replace(base, max_open_norms=2**31), "max_open_norms"),
        (replace(base, max_open_per_author=1001), "max_open_per_author"),
        (replace(base, join_policy="closed"), "join_policy"),
    ):
        with pytest.raises(ValidationFailed) as excinfo:
            services.update_settings(session, community, owner, bad)
        assert excinfo.value.field == field
    services.update_settings(session, community, owner, replace(base, max_open_norms=3))
    assert community.max_open_norms == 3
    largest = replace(
        base, coverage_min_responses=100_000, max_open_norms=1000, max_open_per_author=1000
    )
    services.update_settings(session, community, owner, largest)
    session.commit()
    assert (community.coverage_min_responses, community.max_open_per_author) == (100_000, 1000)


def test_stewards_edit_settings_but_not_roles(client, factory, login_as, session):
    community = factory.community()
    steward = factory.member(community, role="steward")
    member = factory.member(community)
    login_as(steward)
    page = client.get(f"/c/{community.slug}/settings").get_data(as_text=True)
    assert "Save settings" in page
    assert f"/c/{community.slug}/members/{member.id}/role" not in page
    response = client.post(
        f"/c/{community.slug}/members/{member.id}/role", data={f"m{member.id}-role": "steward"}
    )
    assert response.status_code == 403
    assert _membership(session, community, member).role == "member"


def test_plain_members_cannot_open_settings(client, factory, login_as):
    community = factory.community()
    login_as(factory.member(community))
    assert client.get(f"/c/{community.slug}/settings").status_code == 403
    assert (
        client.post(f"/c/{community.slug}/settings", data=_settings(community)).status_code == 403
    )


def test_admin_changes_roles_and_permissions_follow(client, factory, login_as, session):
    owner = factory.user("Owner")
    community = factory.community(owner)
    member = factory.member(community, name="Promoted")
    login_as(owner)
    page = client.get(f"/c/{community.slug}/settings").get_data(as_text=True)
    assert "Promoted" in page
    response = client.post(
        f"/c/{community.slug}/members/{member.id}/role", data={f"m{member.id}-role": "steward"}
    )
    assert response.status_code == 302
    assert _membership(session, community, member).role == "steward"
    client.post("/logout")

    login_as(member)
    assert client.get(f"/c/{community.slug}/settings").status_code == 200
    assert client.post(f"/c/{community.slug}/invites").status_code == 302
    client.post("/logout")

    login_as(owner)
    client.post(
        f"/c/{community.slug}/members/{member.id}/role", data={f"m{member.id}-role": "member"}
    )
    client.post("/logout")
    login_as(member)
    assert client.get(f"/c/{community.slug}/settings").status_code == 403


def test_last_admin_cannot_demote_themselves(client, factory, login_as, session):
    owner = factory.user()
    community = factory.community(owner)
    login_as(owner)
    response = client.post(
        f"/c/{community.slug}/members/{owner.id}/role",
        data={f"m{owner.id}-role": "member"},
        follow_redirects=True,
    )
    assert "at least one admin" in response.get_data(as_text=True)
    assert _membership(session, community, owner).role == "admin"


def test_set_role_service_rules(session, factory):
    owner = factory.user()
    community = factory.community(owner)
    member = factory.member(community)
    outsider = factory.user()
    with pytest.raises(ValidationFailed):
        services.set_role(session, community, owner, member, "overlord")
    with pytest.raises(Forbidden):
        services.set_role(session, community, member, owner, "member")
    with pytest.raises(NotFound):
        services.set_role(session, community, owner, outsider, "steward")
    services.set_role(session, community, owner, member, "admin")
    services.set_role(session, community, member, owner, "member")  # two admins: allowed
    assert services.active_membership(session, community, owner).role == "member"


def test_new_norm_link_only_for_members_when_norm_pages_exist(app, client, factory, login_as):
    community = factory.community()
    link = f'href="/c/{community.slug}/norms/new"'
    assert link not in client.get(f"/c/{community.slug}").get_data(as_text=True)
    login_as(factory.member(community))
    page = client.get(f"/c/{community.slug}").get_data(as_text=True)
    assert (link in page) == ("norms.new" in app.view_functions)


def test_memberships_read_stay_known_through_a_commit_that_wrote_none(session, factory):
    """The norm page commits that it was opened, then asks the viewer's membership again:
    kept through that commit, it costs no second query; a commit that wrote a membership
    leaves it to be read again."""
    community = factory.community()
    ada = factory.member(community, name="Ada")
    statements = []
    engine = session.get_bind()

    def seen(_conn, _cursor, statement, *_args):
        if statement.startswith("SELECT"):
            statements.append(statement)

    def lookup():
        statements.clear()
        event.listen(engine, "before_cursor_execute", seen)
        try:
            membership = services.active_membership(session, community, ada)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        return membership, len(statements)

    assert lookup()[0] is not None
    with services.memberships_kept_through_commit(session):
        factory.norm(community, ada)  # commits a write of no membership
    assert lookup() == (services.get_membership(session, community, ada), 0)

    session.commit()  # any other commit forgets them
    assert lookup()[1] == 1
    with services.memberships_kept_through_commit(session):
        services.get_membership(session, community, ada).role = "steward"
        session.commit()
    membership, queries = lookup()
    assert queries == 1 and membership.role == "steward"
