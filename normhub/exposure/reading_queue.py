"""A member's reading queue: the norms of their communities they have not read as they stand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, joinedload

from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.db import utcnow
from normhub.exposure.ageing import months_between, period_of, period_sql
from normhub.exposure.coverage import GateCount, gate_counts
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


class _Summary(NamedTuple):
    """The columns of a summary row that ``standing.reading_state`` reads."""

    highest_level: int
    level: int
    material_base: int
    level_at: datetime | None


class _Entry(NamedTuple):
    """A norm in the queue before its row is loaded: what orders it and what it will say."""

    norm_id: int
    community_id: int
    is_open: bool
    last_activity_at: datetime
    reason: str
    last_read_at: datetime | None  # for a re-read that fell due


def _my_norms(user: User, community: Community | None):
    """SQL: the norms of the communities ``user`` is active in (or of ``community`` alone)."""
    mine = Norm.community_id.in_(
        select(Membership.community_id).where(
            Membership.user_id == user.id, Membership.left_at.is_(None)
        )
    )
    return mine if community is None else and_(mine, Norm.community_id == community.id)


def _candidates(session: Session, user: User, community: Community | None, now: datetime):
    """Plain rows of the norms the user has not read as they stand: no ORM object made."""
    period = period_sql(Norm.reread_months, Community.reread_months)
    query = (
        select(
            Norm.id,
            Norm.community_id,
            Norm.status,
            Norm.last_activity_at,
            Norm.last_material_version_number,
            period,
            ExposureSummary.user_id,
            ExposureSummary.highest_level,
            ExposureSummary.level,
            ExposureSummary.material_base,
            ExposureSummary.level_at,
        )
        .join(Community, Community.id == Norm.community_id)
        .outerjoin(
            ExposureSummary,
            and_(ExposureSummary.norm_id == Norm.id, ExposureSummary.user_id == user.id),
        )
        .where(
            _my_norms(user, community),
            Norm.status.in_(ACTIVE_STATUSES),
            Norm.author_id != user.id,  # they wrote it; their response is asked elsewhere
            not_exposed(Norm.last_material_version_number, period, now),
        )
    )
    return session.execute(query).all()


def _reason(
    summary: _Summary | None, last_material: int, period: int | None, now: datetime
) -> tuple[str, datetime | None]:
    state = reading_state(summary, last_material, period or None, now)
    if state == "reread":
        return "reread", summary.level_at
    if state == "changed":
        return "stale", None
    if state == "not_read" and summary.material_base >= last_material and summary.level >= OPENED:
        return "opened", None
    return "unread", None


def _ordered(
    session: Session, user: User, community: Community | None, now: datetime
) -> tuple[list[_Entry], dict[int, GateCount]]:
    """The whole queue in order, as plain entries, and the gate counts of the open norms of
    the same communities (those of the queue, and those the user read or wrote)."""
    entries = []
    for row in _candidates(session, user, community, now):
        norm_id, community_id, status, active_at, last_material, period = row[:6]
        summary = _Summary(*row[7:]) if row[6] is not None else None
        reason = _reason(summary, last_material, period, now)
        entries.append(_Entry(norm_id, community_id, status == "open", active_at, *reason))
    # How far from the in-force gate matters only for open norms; counting it for the
    # norms in force too read every exposed member's row of each of them.
    counts = gate_counts(session, and_(_my_norms(user, community), Norm.status == "open"))
    gaps = {norm_id: count.gap for norm_id, count in counts.items()}
    # Open norms have no place on the path (0): their order is as before.
    path_places = path_positions(
        session, {entry.community_id for entry in entries if not entry.is_open}
    )
    entries.sort(
        key=lambda entry: (
            not entry.is_open,
            path_places.get(entry.norm_id, 0),
            gaps.get(entry.norm_id, 0) if entry.is_open else 0,
            -entry.last_activity_at.timestamp(),
            entry.norm_id,
        )
    )
    return entries, counts


def _items(
    session: Session, entries: list[_Entry], counts: dict[int, GateCount], now: datetime
) -> list[QueueItem]:
    """The queue items of ``entries``, their norms (and communities) loaded in one query."""
    if not entries:
        return []
    norms = {
        norm.id: norm
        for norm in session.scalars(
            select(Norm)
            .where(Norm.id.in_([entry.norm_id for entry in entries]))
            .options(joinedload(Norm.community))
        )
    }
    items: list[QueueItem] = []
    for entry in entries:
        count = counts.get(entry.norm_id) if entry.is_open else None
        norm, gap = norms[entry.norm_id], count.gap if count is not None else 0
        if entry.reason == "reread":
            items.append(RereadDue(norm, gap, entry.last_read_at, now))
        else:
            items.append(QueueItem(norm, entry.reason, gap))
    return items


def reading_queue(
    session: Session,
    user: User,
    community: Community | None = None,
    limit: int | None = None,
) -> list[QueueItem]:
    """Open and in-force norms of ``user``'s communities they have not read as they stand now.

    Reasons, from ``standing.reading_state``: "stale" (read an older text that
    has changed materially since), "reread" (read the current text, longer ago
    than the re-read period its community or the norm asks for), "opened"
    (opened the current text, not finished), "unread" (neither).
    Norms the user wrote are left out. Open norms come first, closest to the
    in-force gate first; ties go to the most recently active. Norms in force
    follow in the order of their community's path for newcomers
    (``norms.path``): each after the norms it builds on.

    The whole queue is ordered from plain rows; only the norms of the first
    ``limit`` items are loaded.
    """
    now = utcnow()
    entries, counts = _ordered(session, user, community, now)
    return _items(session, entries[:limit] if limit is not None else entries, counts, now)


@dataclass
class QueueHead:
    """The first items of a queue's two parts, and how many each holds: the home page's."""

    to_read: list[QueueItem]
    to_read_total: int
    changed: list[QueueItem]  # read once, changed materially since ("stale")
    changed_total: int
    # The gate counts of every open norm of the user's communities.
    gate_counts: dict[int, GateCount]


def queue_head(session: Session, user: User, shown: int) -> QueueHead:
    """The first ``shown`` of the queue's norms to read and of those changed since read,
    in the queue's order (exactly those ``reading_queue`` would list first): only those
    norms are loaded."""
    now = utcnow()
    entries, counts = _ordered(session, user, None, now)
    to_read = [entry for entry in entries if entry.reason != "stale"]
    changed = [entry for entry in entries if entry.reason == "stale"]
    items = iter(_items(session, to_read[:shown] + changed[:shown], counts, now))
    return QueueHead(
        [next(items) for _ in to_read[:shown]],
        len(to_read),
        [next(items) for _ in changed[:shown]],
        len(changed),
        counts,
    )
