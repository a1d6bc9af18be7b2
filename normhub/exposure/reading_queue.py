"""A member's reading queue: the norms of their communities they have not read as they stand."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, selectinload

from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.exposure.coverage import coverage_for_norms
from normhub.exposure.levels import ACTIVE_STATUSES, OPENED
from normhub.exposure.models import ExposureSummary
from normhub.exposure.standing import not_exposed, reading_state
from normhub.norms.models import Norm
from normhub.norms.path import path_positions


class QueueItem(NamedTuple):
    norm: Norm
    reason: str  # "unread" | "opened" | "stale"
    coverage_gap: int


def reading_queue(
    session: Session, user: User, community: Community | None = None, limit: int | None = None
) -> list[QueueItem]:
    """Open and in-force norms of ``user``'s communities they have not read as they stand now.

    Reasons, from ``standing.reading_state``: "stale" (read an older text that
    has changed materially since), "opened" (opened the current text, not
    finished), "unread" (neither).
    Norms the user wrote are left out. Open norms come first, closest to the
    in-force gate first; ties go to the most recently active. Norms in force
    follow in the order of their community's path for newcomers
    (``norms.path``): each after the norms it builds on.
    """
    my_communities = select(Membership.community_id).where(
        Membership.user_id == user.id, Membership.left_at.is_(None)
    )
    query = (
        select(Norm, ExposureSummary)
        .outerjoin(
            ExposureSummary,
            and_(ExposureSummary.norm_id == Norm.id, ExposureSummary.user_id == user.id),
        )
        .where(
            Norm.community_id.in_(my_communities),
            Norm.status.in_(ACTIVE_STATUSES),
            Norm.author_id != user.id,  # they wrote it; their response is asked elsewhere
            not_exposed(Norm.last_material_version_number),
        )
        .options(selectinload(Norm.community))
    )
    if community is not None:
        query = query.where(Norm.community_id == community.id)
    rows = session.execute(query).all()
    gaps = coverage_for_norms(session, [norm for norm, _ in rows])
    items = []
    for norm, summary in rows:
        state = reading_state(summary, norm.last_material_version_number)
        if state == "changed":
            reason = "stale"
        elif (
            state == "not_read"
            and summary.material_base >= norm.last_material_version_number
            and summary.level >= OPENED
        ):
            reason = "opened"
        else:
            reason = "unread"
        items.append(QueueItem(norm, reason, gaps[norm.id].gap))
    # Open norms have no place on the path (0): their order is as before.
    path_places = path_positions(
        session, {norm.community_id for norm, _ in rows if norm.status == "in_force"}
    )
    items.sort(
        key=lambda item: (
            item.norm.status != "open",
            path_places.get(item.norm.id, 0),
            item.coverage_gap,
            -item.norm.last_activity_at.timestamp(),
            item.norm.id,
        )
    )
    return items[:limit] if limit is not None else items
