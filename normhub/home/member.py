"""What the home page shows a member: what needs them, across their communities.

Unread notices, the reading queue (norms not yet read, and norms read whose
text has changed materially since), open norms closest to the in-force gate,
and what others did lately. Everything comes from the communities the member
is active in now (notices: from communities they may still see), and takes a
fixed number of queries however many communities and norms there are: every
list is cut in SQL or built from one query, and what a row names (its
community, its author) comes joined into that query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.communities.services import visible_communities_clause
from normhub.discussion.models import Comment
from normhub.exposure.coverage import GateCount
from normhub.exposure.reading_queue import QueueItem, queue_head
from normhub.norms.models import Norm, StatusChange
from normhub.notifications.models import Notification

# How many of each list the page shows; the full lists are a click away.
SHOWN = 5
ACTIVITY_SHOWN = 10
# Open norms weighed for "close to the gate": the most recently active ones.
GATE_CANDIDATES = 100


@dataclass
class Activity:
    """One thing someone else did lately in one of the member's communities."""

    kind: str  # "proposed" | "status" | "comment"
    norm: Norm
    actor: User
    at: datetime
    change: StatusChange | None = None
    comment: Comment | None = None


@dataclass
class NearGate:
    """An open norm and how far it is from the in-force gate."""

    norm: Norm
    count: GateCount


@dataclass
class MemberHome:
    communities: list[Community]
    notices: list[Notification]
    to_read: list[QueueItem]
    to_read_total: int
    changed: list[QueueItem]
    changed_total: int
    near_gate: list[NearGate]
    activity: list[Activity]


def _my_community_ids(user: User) -> Select:
    return select(Membership.community_id).where(
        Membership.user_id == user.id, Membership.left_at.is_(None)
    )


def my_communities(session: Session, user: User) -> list[Community]:
    return list(
        session.scalars(
            select(Community)
            .where(Community.id.in_(_my_community_ids(user)))
            .order_by(func.lower(Community.name), Community.id)
        )
    )


def unread_notices(session: Session, user: User, limit: int = SHOWN) -> list[Notification]:
    """The newest unread notices, from communities ``user`` may see now."""
    visible = select(Community.id).where(visible_communities_clause(user))
    return list(
        session.scalars(
            select(Notification)
            .where(
                Notification.user_id == user.id,
                Notification.read_at.is_(None),
                Notification.community_id.in_(visible),
            )
            .order_by(Notification.updated_at.desc(), Notification.id.desc())
            .limit(limit)
            .options(joinedload(Notification.community))
        )
    )


def gate_candidates(session: Session, user: User) -> list[Norm]:
    """The most recently active open norms of the member's communities, newest first."""
    return list(
        session.scalars(
            select(Norm)
            .where(Norm.community_id.in_(_my_community_ids(user)), Norm.status == "open")
            .order_by(Norm.last_activity_at.desc(), Norm.id.desc())
            .limit(GATE_CANDIDATES)
            .options(joinedload(Norm.community))
        )
    )


def near_the_gate(
    candidates: Iterable[Norm], counts: Mapping[int, GateCount], limit: int = SHOWN
) -> list[NearGate]:
    """The norms fewest people short of the in-force gate first.

    Those that already meet it come first: a steward can put them in force.
    """
    near = [NearGate(norm, counts[norm.id]) for norm in candidates if norm.id in counts]
    near = [item for item in near if item.count.active_members]
    near.sort(key=lambda item: (item.count.gap, -item.norm.last_activity_at.timestamp()))
    return near[:limit]


def recent_activity(session: Session, user: User, limit: int = ACTIVITY_SHOWN) -> list[Activity]:
    """What others did lately in the member's communities: new proposals, status changes and
    comments (those a steward hid left out), newest first. Three queries."""
    mine = _my_community_ids(user)
    proposed = session.scalars(
        select(Norm)
        .where(Norm.community_id.in_(mine), Norm.author_id != user.id)
        .order_by(Norm.created_at.desc(), Norm.id.desc())
        .limit(limit)
        .options(joinedload(Norm.community), joinedload(Norm.author))
    ).all()
    changes = session.execute(
        select(StatusChange, Norm)
        .join(Norm, Norm.id == StatusChange.norm_id)
        .where(Norm.community_id.in_(mine), StatusChange.changed_by_id != user.id)
        .order_by(StatusChange.changed_at.desc(), StatusChange.id.desc())
        .limit(limit)
        .options(joinedload(StatusChange.changed_by), joinedload(Norm.community))
    ).all()
    comments = session.scalars(
        select(Comment)
        .join(Norm, Norm.id == Comment.norm_id)
        .where(
            Norm.community_id.in_(mine),
            Comment.author_id != user.id,
            Comment.hidden_at.is_(None),
        )
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
        .options(joinedload(Comment.author), joinedload(Comment.norm).joinedload(Norm.community))
    ).all()
    items = [Activity("proposed", norm, norm.author, norm.created_at) for norm in proposed]
    items += [
        Activity("status", norm, change.changed_by, change.changed_at, change=change)
        for change, norm in changes
    ]
    items += [
        Activity("comment", comment.norm, comment.author, comment.created_at, comment=comment)
        for comment in comments
    ]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def what_needs(session: Session, user: User) -> MemberHome:
    """Everything the member's home shows, in a fixed number of queries."""
    communities = my_communities(session, user)
    candidates = gate_candidates(session, user)
    queue = queue_head(session, user, SHOWN)  # with the gate counts of every open norm
    return MemberHome(
        communities=communities,
        notices=unread_notices(session, user),
        to_read=queue.to_read,
        to_read_total=queue.to_read_total,
        changed=queue.changed,
        changed_total=queue.changed_total,
        near_gate=near_the_gate(candidates, queue.gate_counts),
        activity=recent_activity(session, user),
    )
