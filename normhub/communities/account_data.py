"""A member's communities, in their data download; ending them when the account goes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.communities.services import leave
from normhub.db import utc_iso


def memberships_section(session: Session, user: User) -> list[dict]:
    rows = session.scalars(
        select(Membership)
        .where(Membership.user_id == user.id)
        .options(joinedload(Membership.community))
        .order_by(Membership.joined_at, Membership.id)
    )
    return [
        {
            "community": {"slug": m.community.slug, "name": m.community.name},
            "role": m.role,
            "joined_at": utc_iso(m.joined_at),
            "left_at": utc_iso(m.left_at),
        }
        for m in rows
    ]


def leave_every_community(session: Session, *, user: User, remove_writing: bool) -> None:
    """Leave each community as the member would by hand: refused while they are the
    only admin of one with other members, which then refuses the deletion."""
    communities = session.scalars(
        select(Community)
        .join(Membership, Membership.community_id == Community.id)
        .where(Membership.user_id == user.id, Membership.left_at.is_(None))
        .order_by(Community.id)
    ).all()
    for community in communities:
        leave(
            session,
            community,
            user,
            only_admin=f"You are the only admin of {community.name}: make another member "
            "an admin there before you delete your account.",
        )
