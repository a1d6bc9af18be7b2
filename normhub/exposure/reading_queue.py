"""A member's reading queue: the norms of their communities they have not read as they stand."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, selectinload

from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.db import utcnow
from normhub.exposure.ageing import months_between, period_of, period_sql
from normhub.exposure.coverage import Coverage, coverage_for_norms
from normhub.exposure.levels import ACTIVE_STATUSES, OPENED
from normhub.exposure.models import ExposureSummary
from normhub.exposure.report import months_words
from normhub.exposure.standing import not_exposed, reading_state
from normhub.norms.models import Norm
from normhub.norms.path import path_positions


class QueueItem(NamedTuple):
    norm: Norm
    reason: str  # "unread" | "opened" | "stale" | "reread"
    coverage_gap: int


class RereadDue(QueueItem):
    """A norm back in the queue because the reading of its current text has aged.

    Still a ``QueueItem`` of three (it unpacks as one), with when they last
    read the text and the period asked for beside it.
    """

    last_read_at: datetime
    reread_months: int
    months_since_read: int

    def __new__(cls, norm: Norm, coverage_gap: int, last_read_at: datetime, now: datetime):
        item = super().__new__(cls, norm, "reread", coverage_gap)
        item.last_read_at = last_read_at
        item.reread_months = period_of(norm) or 0
        item.months_since_read = months_between(last_read_at, now)
        return item

    @property
    def reread_words(self) -> str:
        """ "You last read it 14 months ago; the community asks for a re-read every 12 months"."""
        asker = "this norm" if self.norm.reread_months else "the community"
        return (
            f"You last read it {months_words(self.months_since_read)} ago; {asker} "
            f"asks for a re-read every {months_words(self.reread_months)}"
        )


def reading_queue(
    session: Session,
    user: User,
    community: Community | None = None,
    limit: int | None = None,
    known: Mapping[int, Coverage] | None = None,
) -> list[QueueItem]:
    """Open and in-force norms of ``user``'s communities they have not read as they stand now.

    Reasons, from ``standing.reading_state``: "stale" (read an older text that
    has changed materially since), "reread" (read the current text, longer ago
    than the re-read period its community or the norm asks for), "opened"
    (opened the current text, not finished), "unread" (neither).
    Norms the user wrote are left out. Open norms come first, closest to the
    in-force gate first; ties go to the most recently active. Norms in force
    follow in the order of their community's path for newcomers
    (``norms.path``): each after the norms it builds on. ``known``: coverage
    the caller has already counted, by norm id (the home page counts it for
    its own list too), so only the others are counted here.
    """
    my_communities = select(Membership.community_id).where(
        Membership.user_id == user.id, Membership.left_at.is_(None)
    )
    now = utcnow()
    period = period_sql(Norm.reread_months, Community.reread_months)
    query = (
        select(Norm, ExposureSummary)
        .join(Community, Community.id == Norm.community_id)
        .outerjoin(
            ExposureSummary,
            and_(ExposureSummary.norm_id == Norm.id, ExposureSummary.user_id == user.id),
        )
        .where(
            Norm.community_id.in_(my_communities),
            Norm.status.in_(ACTIVE_STATUSES),
            Norm.author_id != user.id,  # they wrote it; their response is asked elsewhere
            not_exposed(Norm.last_material_version_number, period, now),
        )
        .options(selectinload(Norm.community))
    )
    if community is not None:
        query = query.where(Norm.community_id == community.id)
    rows = session.execute(query).all()
    # How far from the in-force gate matters only for open norms; counting it for the
    # norms in force too read every exposed member's row of each of them.
    known = known or {}
    counted = coverage_for_norms(
        session, [norm for norm, _ in rows if norm.status == "open" and norm.id not in known]
    )
    gaps = {norm_id: item.gap for norm_id, item in {**known, **counted}.items()}
    items = []
    for norm, summary in rows:
        state = reading_state(summary, norm.last_material_version_number, period_of(norm), now)
        if state == "reread":
            items.append(RereadDue(norm, gaps.get(norm.id, 0), summary.level_at, now))
            continue
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
        items.append(QueueItem(norm, reason, gaps.get(norm.id, 0)))
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
