"""What the forum's pages list: communities with their counts, and a member's norms and responses.

Every list is limited to the communities the viewer may see. A member's
responses are narrower still: only fellow active members of the norm's
community (and site admins) see them, as the policy's "member.see-activity"
says; the norm a member proposed is public wherever the norm is, since its
page names its author.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.communities.services import communities_allowing_clause, visible_communities_clause
from normhub.norms.models import Norm
from normhub.responses.models import Response


@dataclass
class CommunitySummary:
    community: Community
    member_count: int
    norm_count: int
    open_count: int
    in_force_count: int
    is_member: bool


def community_summaries(session: Session, viewer: User | None) -> list[CommunitySummary]:
    """Every community ``viewer`` may see, by name, with member and norm counts."""
    members = (
        select(func.count(Membership.id))
        .where(Membership.community_id == Community.id, Membership.left_at.is_(None))
        .correlate(Community)
        .scalar_subquery()
    )

    def norms_with(*conditions):
        return (
            select(func.count(Norm.id))
            .where(Norm.community_id == Community.id, *conditions)
            .correlate(Community)
            .scalar_subquery()
        )

    mine = (
        select(Membership.community_id).where(
            Membership.user_id == viewer.id, Membership.left_at.is_(None)
        )
        if viewer is not None
        else None
    )
    rows = session.execute(
        select(
            Community,
            members,
            norms_with(Norm.status.not_in(("withdrawn",))),
            norms_with(Norm.status == "open"),
            norms_with(Norm.status == "in_force"),
        )
        .where(visible_communities_clause(viewer))
        .order_by(func.lower(Community.name), Community.id)
    ).all()
    my_ids = set(session.scalars(mine)) if mine is not None else set()
    return [
        CommunitySummary(c, m or 0, n or 0, o or 0, f or 0, c.id in my_ids)
        for c, m, n, o, f in rows
    ]


MEMBER_PAGE_LIMIT = 50


def proposed_norms(session: Session, author: User, viewer: User | None, limit=MEMBER_PAGE_LIMIT):
    """Norms ``author`` proposed, in communities ``viewer`` may see, newest activity first."""
    return list(
        session.scalars(
            select(Norm)
            .join(Community, Community.id == Norm.community_id)
            .where(Norm.author_id == author.id, visible_communities_clause(viewer))
            .order_by(Norm.last_activity_at.desc(), Norm.id.desc())
            .limit(limit)
            .options(selectinload(Norm.community))
        )
    )


def responded_norms(session: Session, reader: User, viewer: User | None, limit=MEMBER_PAGE_LIMIT):
    """(norm, latest response) pairs for norms ``reader`` responded to, for ``viewer``.

    Only norms of communities where ``viewer`` is an active member (or a site
    admin): anyone else learns nothing of what ``reader`` answered.
    """
    latest = (
        select(func.max(Response.id))
        .where(Response.user_id == reader.id)
        .group_by(Response.norm_id)
    )
    rows = session.execute(
        select(Norm, Response)
        .join(Response, Response.norm_id == Norm.id)
        .join(Community, Community.id == Norm.community_id)
        .where(Response.id.in_(latest), communities_allowing_clause("member.see-activity", viewer))
        .order_by(Response.id.desc())
        .limit(limit)
        .options(selectinload(Norm.community), selectinload(Response.version))
    ).all()
    return [(row[0], row[1]) for row in rows]


@dataclass
class About:
    """What a community's about page says of it, besides its own columns."""

    community: Community
    # Admins first, then stewards, each by name.
    stewards: list[Membership]
    member_count: int
    open_count: int
    in_force_count: int


def community_about(session: Session, community: Community) -> About:
    """The facts of the about page, in three queries whatever the community's size."""
    rank = case({"admin": 0, "steward": 1}, value=Membership.role, else_=2)
    stewards = session.scalars(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.community_id == community.id,
            Membership.left_at.is_(None),
            Membership.role.in_(("steward", "admin")),
        )
        .order_by(rank, func.lower(User.display_name), User.id)
        .options(selectinload(Membership.user))
    ).all()
    members = session.scalar(
        select(func.count(Membership.id)).where(
            Membership.community_id == community.id, Membership.left_at.is_(None)
        )
    )
    statuses = dict(
        session.execute(
            select(Norm.status, func.count(Norm.id))
            .where(Norm.community_id == community.id, Norm.status.in_(("open", "in_force")))
            .group_by(Norm.status)
        ).all()
    )
    return About(
        community,
        list(stewards),
        members or 0,
        statuses.get("open", 0),
        statuses.get("in_force", 0),
    )
