"""Where a person stood at an earlier instant, replayed from the ledger.

The summary rows only know the present. For an instant ``as_of`` this module
reads what existed then (events, versions, status changes, membership, the
response in force, all with a time at or before ``as_of``) and folds the
events with the ledger's own rule (``ledger.apply_event``), so an answer
about the past is worked out exactly as today's would have been.

Its results have the shapes of ``normhub.exposure.facts``' rows, so
``normhub.exposure.standing`` words both the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import Integer, bindparam, func, literal, select
from sqlalchemy.orm import Session, aliased

from normhub.autocommit import DirectConnection, DirectStatement
from normhub.communities.models import Membership
from normhub.errors import ValidationFailed
from normhub.exposure.facts import (
    latest_response,
    ledger_events,
    newest_reading,
    prerequisite_closure,
    with_response,
)
from normhub.exposure.ledger import apply_event
from normhub.exposure.levels import ACTIVE_STATUSES, NONE, READ, NormState
from normhub.exposure.models import LEVEL_RANK, READING_KINDS, ExposureEvent, ExposureSummary
from normhub.norms.models import Norm, NormVersion, StatusChange, pending_version


def parse_as_of(text: str) -> datetime:
    """An ISO 8601 instant as the naive UTC the database stores; without a zone, UTC.

    ValidationFailed (a 400) when ``text`` is not one.
    """
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(
            f"“{text}” is not an ISO 8601 instant, such as 2026-03-01T12:00:00Z.", field="as_of"
        ) from None
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC).replace(tzinfo=None)
    return instant


class FactRow(NamedTuple):
    """One row of the facts a check reads (the columns of ``facts.with_check_facts``)."""

    membership_id: int | None
    left_at: datetime | None
    level: int | None
    level_version: int | None
    latest_version: int | None
    material_base: int | None
    highest_level: int | None
    highest_level_version: int | None
    first_seen_at: datetime | None
    level_at: datetime | None
    last_seen_at: datetime | None
    newest_read: int | None
    response_id: int | None
    understood: str | None
    endorsement: str | None
    response_at: datetime | None
    response_version: int | None
    position: int | None
    statement: str | None
    assumption_understood: str | None
    agreement: str | None
    reason: str | None
    builds_on: bool
    norm_reread_months: int | None = None
    community_reread_months: int | None = None


class TimelineEntry(NamedTuple):
    kind: str
    level: str
    version_number: int
    created_at: datetime


_VERSIONS = DirectStatement(
    select(NormVersion.number, NormVersion.is_material)
    .where(
        NormVersion.norm_id == bindparam("norm_id"), NormVersion.created_at <= bindparam("as_of")
    )
    .order_by(NormVersion.number)
)
_STATUS_CHANGES = DirectStatement(
    select(StatusChange.from_status, StatusChange.to_status, StatusChange.changed_at)
    .where(StatusChange.norm_id == bindparam("norm_id"))
    .order_by(StatusChange.changed_at, StatusChange.id)
)
_MEMBERSHIP = DirectStatement(
    select(Membership.id, Membership.joined_at, Membership.left_at).where(
        Membership.user_id == bindparam("subject_id"),
        Membership.community_id == bindparam("community_id"),
    )
)
_EVENTS = DirectStatement(
    ledger_events(ExposureEvent.created_at <= bindparam("as_of")).order_by(
        ExposureEvent.created_at, ExposureEvent.id
    )
)
_ANSWERED = aliased(NormVersion, name="answered")
# The subject's latest response made by ``as_of`` to a version up to ``up_to``,
# one row per answered assumption.
_RESPONSE = DirectStatement(
    with_response(
        select().select_from(select(literal(1, Integer).label("one")).subquery()),
        latest_response(
            bindparam("subject_id"),
            bindparam("norm_id"),
            lambda latest: latest.created_at <= bindparam("as_of"),
            lambda latest: latest.version_id.in_(
                select(_ANSWERED.id).where(
                    _ANSWERED.norm_id == bindparam("norm_id"),
                    _ANSWERED.number <= bindparam("up_to"),
                )
            ),
        ),
        bindparam("norm_id"),
    )
)


def _prerequisites_statement():
    """The closure's norms with, as of ``as_of``: status, newest material version, and the
    newest version of each that the subject read, responded to or wrote."""
    later_change = aliased(StatusChange, name="later_change")
    material = aliased(NormVersion, name="material")
    status_then = func.coalesce(
        select(later_change.from_status)
        .where(later_change.norm_id == Norm.id, later_change.changed_at > bindparam("as_of"))
        .order_by(later_change.changed_at, later_change.id)
        .limit(1)
        .scalar_subquery(),
        Norm.status,
    )
    last_material_then = (
        select(func.max(material.number))
        .where(
            material.norm_id == Norm.id,
            material.is_material.is_(True),
            material.created_at <= bindparam("as_of"),
        )
        .scalar_subquery()
    )
    newest_read_then = newest_reading(
        bindparam("subject_id"),
        Norm.id,
        lambda reading: reading.created_at <= bindparam("as_of"),
    )
    return (
        select(
            Norm.id,
            Norm.slug,
            Norm.title,
            status_then.label("status"),
            last_material_then.label("last_material"),
            newest_read_then.label("newest_read"),
        )
        .where(Norm.id.in_(prerequisite_closure()), Norm.id != bindparam("norm_id"))
        .order_by(Norm.title, Norm.id)
    )


_PREREQUISITES = DirectStatement(_prerequisites_statement())


class Replay(NamedTuple):
    """What a check at ``as_of`` reads: the norm then, the facts rows, the events by then."""

    norm: NormState
    rows: list[FactRow]
    events: list  # oldest first


def _versions_state(state: NormState, versions: list) -> NormState:
    current = versions[-1].number if versions else 0
    last_material = max((v.number for v in versions if v.is_material), default=0)
    return state._replace(
        current_version_number=current, last_material_version_number=last_material
    )


def _norm_then(norm, versions: list, changes: list, as_of: datetime) -> NormState:
    """``norm``'s status and versions at ``as_of``: today's, unwound through later changes."""
    today = _versions_state(NormState.now(norm), versions)
    later = [c for c in changes if c.changed_at > as_of]
    if not later:  # the status is still today's: read it as today's answer does
        return today
    status = later[0].from_status
    came_into_force = [
        c.changed_at for c in changes if c.to_status == "in_force" and c.changed_at <= as_of
    ]
    in_force_since = came_into_force[-1] if status == "in_force" and came_into_force else None
    return today._replace(status=status, in_force_since=in_force_since)


def _material_bases(versions: list) -> dict[int, int]:
    """Each version number -> its newest material ancestor."""
    bases, base = {}, 0
    for version in versions:
        base = version.number if version.is_material else base
        bases[version.number] = base or version.number
    return bases


def _replayed_summary(events: list, bases: dict[int, int]) -> ExposureSummary | None:
    """The summary row these events would have left (None when there are none)."""
    if not events:
        return None
    summary = ExposureSummary(
        first_seen_at=events[0].created_at,
        last_seen_at=None,
        latest_version=0,
        material_base=0,
        level=NONE,
        highest_level=NONE,
    )
    for event in events:
        number = event.version_number
        base = bases.get(number, number)
        apply_event(summary, number, base, LEVEL_RANK[event.level], event.kind, event.created_at)
    return summary


def _ledger_columns(summary: ExposureSummary | None, events: list) -> tuple:
    """The summary columns of a facts row, and ``newest_read`` where the summary can't tell."""
    if summary is None:
        return (None,) * 10
    newest_read = None
    if summary.level < READ and summary.highest_level >= READ:
        newest_read = max(e.version_number for e in events if e.kind in READING_KINDS)
    return (
        summary.level,
        summary.level_version,
        summary.latest_version,
        summary.material_base,
        summary.highest_level,
        summary.highest_level_version,
        summary.first_seen_at,
        summary.level_at,
        summary.last_seen_at,
        newest_read,
    )


def _membership_then(db, norm, subject, as_of: datetime) -> tuple[int | None, datetime | None]:
    """(membership id, left at) as a check would have seen them; no id if not joined yet."""
    row = _MEMBERSHIP.first(db, {"subject_id": subject.id, "community_id": norm.community_id})
    if row is None or row.joined_at > as_of:
        return None, None
    left_at = row.left_at if row.left_at is not None and row.left_at <= as_of else None
    return row.id, left_at


def replay(db: Session | DirectConnection, norm, subject, as_of: datetime) -> Replay:
    """The norm, and the rows ``facts.CHECK_FACTS`` would have returned, at ``as_of``.

    While a material revision of a norm in force waits for the gate, only the
    versions up to the one in force, and what the subject did with them,
    count: that is the text they are bound by. (The version in force is
    today's: an earlier instant is answered about it too.)
    """
    params = {"subject_id": subject.id, "norm_id": norm.id, "as_of": as_of}
    versions = _VERSIONS.all(db, params)
    state = _norm_then(norm, versions, _STATUS_CHANGES.all(db, params), as_of)
    events = _EVENTS.all(db, params)
    pending = pending_version(
        state.status, norm.in_force_version_number, state.current_version_number
    )
    params["up_to"] = norm.in_force_version_number if pending else state.current_version_number
    if pending:
        versions = [v for v in versions if v.number <= params["up_to"]]
        events = [e for e in events if e.version_number <= params["up_to"]]
        state = _versions_state(state, versions)
    state = state._replace(pending_version_number=pending)
    ledger = _ledger_columns(_replayed_summary(events, _material_bases(versions)), events)
    membership = _membership_then(db, norm, subject, as_of)
    rows = [FactRow(*membership, *ledger, *response) for response in _RESPONSE.all(db, params)]
    return Replay(state, rows, events)


def timeline(events: list, limit: int) -> list[TimelineEntry]:
    """The newest ``limit`` of a replay's events, newest first."""
    return [TimelineEntry(*event) for event in reversed(events[-limit:])]


def unmet_prerequisites(db, norm, subject, as_of: datetime) -> list:
    """The norms ``norm`` built on at ``as_of`` that were open or in force and not read."""
    rows = _PREREQUISITES.all(db, {"norm_id": norm.id, "subject_id": subject.id, "as_of": as_of})
    return [
        row
        for row in rows
        if row.status in ACTIVE_STATUSES
        and row.last_material is not None
        and (row.newest_read or 0) < row.last_material
    ]
