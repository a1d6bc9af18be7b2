"""Member pages live at a random handle, so nobody can list the members by counting ids."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from normhub.accounts.models import HANDLE_LENGTH, User
from normhub.cli import downgrade_database, upgrade_database
from normhub.communities.invites import create_invite
from normhub.db import make_engine
from normhub.exposure.check import check_exposure, record_check
from tests.conftest import fresh_database
from tests.search_helpers import add_comment

HANDLE = re.compile(rf"^[a-z0-9]{{{HANDLE_LENGTH}}}$")


def test_every_user_gets_a_random_handle(factory, session):
    users = [factory.user() for _ in range(20)]
    handles = [user.handle for user in users]
    assert all(HANDLE.match(handle) for handle in handles)
    assert len(set(handles)) == 20
    assert session.scalar(select(func.count()).where(User.handle.is_(None))) == 0


def test_sequential_ids_name_no_page_for_anyone(client, factory, login_as, session):
    community = factory.community()
    people = [factory.member(community) for _ in range(3)]
    admin = factory.user("Site Admin", admin=True)
    visitors = [None, factory.user("Outsider"), people[0], admin]
    for visitor in visitors:
        if visitor is not None:
            login_as(visitor)
        for person in people:
            assert client.get(f"/members/{person.id}").status_code == 404
            response = client.get(f"/members/{person.handle}")
            assert response.status_code == 200
            assert person.display_name in response.get_data(as_text=True)
        for n in range(1, 12):
            assert client.get(f"/members/{n}").status_code == 404
        client.post("/logout")


def test_every_link_to_a_member_uses_the_handle(client, factory, login_as, session):
    owner = factory.user("Owner Person")
    community = factory.community(owner)
    norm = factory.norm(community, owner)
    commenter = factory.member(community, name="Comment Writer")
    add_comment(session, norm, commenter, "A comment.")
    create_invite(session, community, owner)
    report = check_exposure(session, norm, commenter)
    record_check(session, owner, commenter, norm, report)
    session.commit()

    def member_links(page: str) -> set[str]:
        return set(re.findall(r'href="/members/([^"]*)"', page))

    login_as(commenter)
    norm_page = client.get(f"/c/{community.slug}/norms/{norm.slug}").get_data(as_text=True)
    # The author's name, the comment's author and the header's own link.
    assert member_links(norm_page) == {owner.handle, commenter.handle}
    about_me = client.get("/exposure/about-me").get_data(as_text=True)
    assert member_links(about_me) == {owner.handle, commenter.handle}
    client.post("/logout")
    login_as(owner)
    settings = client.get(f"/c/{community.slug}/settings").get_data(as_text=True)
    assert {owner.handle, commenter.handle} <= member_links(settings)
    for page in (norm_page, about_me, settings):
        assert not any(link.isdigit() for link in member_links(page))


def test_migration_gives_existing_users_distinct_handles(tmp_path):
    with fresh_database(tmp_path) as url:
        upgrade_database(url, "0011")
        engine = make_engine(url)
        user = (
            "INSERT INTO users (id, email, display_name, password_hash, bio, is_admin, created_at)"
        )
        at = datetime(2026, 1, 5, 9)
        try:
            with engine.begin() as connection:
                connection.execute(
                    text(f"{user} VALUES (:id, :email, :name, 'x', '', false, :at)"),
                    [
                        {"id": n, "email": f"u{n}@example.org", "name": f"U{n}", "at": at}
                        for n in range(1, 51)
                    ],
                )
            upgrade_database(url, "0017")
            with engine.connect() as connection:
                handles = connection.scalars(text("SELECT handle FROM users")).all()
            assert len(handles) == 50 and len(set(handles)) == 50
            assert all(HANDLE.match(handle) for handle in handles)
            with pytest.raises(IntegrityError), engine.begin() as connection:
                # The unique index holds: two users cannot share a handle.
                connection.execute(
                    text(
                        "INSERT INTO users (id, email, display_name, password_hash, bio,"
                        " is_admin, created_at, handle)"
                        " VALUES (51, 'x@example.org', 'X', 'x', '', false, :at, :handle)"
                    ),
                    {"at": at, "handle": handles[0]},
                )
            downgrade_database(url, "0011")
            with engine.connect() as connection:
                columns = connection.execute(text("SELECT * FROM users")).keys()
            assert "handle" not in columns
        finally:
            engine.dispose()
