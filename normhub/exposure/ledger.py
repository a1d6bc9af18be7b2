"""The exposure ledger: recording events and the summary they keep up to date.

Every event is appended to ``ExposureEvent`` and applied to the member's
``ExposureSummary`` row in the same transaction (see :mod:`normhub.exposure`
for the levels and the staleness rule). ``normhub.exposure.bulk`` applies the
same rules to a digest's deliveries in bulk.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from normhub import tokens
from normhub.accounts.models import User
from normhub.communities.services import active_membership
from normhub.db import dialect_insert, utcnow
from normhub.exposure.ageing import is_stale_by_age, period_of
from normhub.exposure.levels import ENDORSED, NONE, OPENED, READ, UNDERSTOOD
from normhub.exposure.models import EVENT_KINDS, LEVEL_RANK, LEVELS, ExposureEvent, ExposureSummary
from normhub.norms.models import Norm, NormVersion
from normhub.responses.models import Response

# Reloading the page should not write a new ledger row each time.
OPENED_DEBOUNCE = timedelta(minutes=10)


def response_level(understood: str, endorsement: str) -> int:
    if understood != "yes":
        return READ
    return ENDORSED if endorsement == "endorse" else UNDERSTOOD


def _version_number(version: NormVersion | int) -> int:
    return version.number if isinstance(version, NormVersion) else int(version)


def _material_base(session: Session, norm: Norm, number: int) -> int:
    """The newest material version at or before ``number``."""
    if number >= norm.last_material_version_number:
        return norm.last_material_version_number
    base = session.scalar(
        select(func.max(NormVersion.number)).where(
            NormVersion.norm_id == norm.id,
            NormVersion.number <= number,
            NormVersion.is_material.is_(True),
        )
    )
    return base or number


def _locked_summary(session: Session, user_id: int, norm_id: int, at: datetime):
    """The (user, norm) summary row, created if missing, locked until commit.

    On PostgreSQL the insert waits for a concurrent insert of the same key and
    the FOR UPDATE serialises every event of one member on one norm; SQLite
    write transactions are already serialised (BEGIN IMMEDIATE).
    """
    insert = dialect_insert(session.get_bind().dialect.name)
    session.execute(
        insert(ExposureSummary)
        .values(
            user_id=user_id,
            norm_id=norm_id,
            first_seen_at=at,
            last_seen_at=at,
            latest_version=0,
            material_base=0,
            level=NONE,
            highest_level=NONE,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "norm_id"])
    )
    return session.execute(
        select(ExposureSummary)
        .where(ExposureSummary.user_id == user_id, ExposureSummary.norm_id == norm_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def apply_event(
    summary: ExposureSummary, number: int, base: int, level: int, kind: str, at: datetime
) -> None:
    """Fold one event into a summary row: the one rule, for the ledger and for replays."""
    summary.last_seen_at = max(summary.last_seen_at or at, at)
    summary.latest_version = max(summary.latest_version or 0, number)
    if kind == "responded" and base > (summary.responded_base or 0):
        summary.responded_base = base
    if level > summary.highest_level or (
        level == summary.highest_level and number > (summary.highest_level_version or 0)
    ):
        summary.highest_level = level
        summary.highest_level_version = number
        summary.highest_level_at = at
    if base > summary.material_base:
        # A newer material family: what was reached on older text no longer counts.
        summary.material_base = base
        summary.level, summary.level_version, summary.level_at = level, number, at
        return
    if base < summary.material_base:
        return
    if kind == "responded":
        # The newest response decides understood/endorsed; reading stays.
        new_level = max(min(summary.level, READ), level)
        if new_level == level:
            summary.level, summary.level_version, summary.level_at = level, number, at
        else:
            summary.level = new_level
    elif kind == "reread":
        # The same reading again: it keeps the level and renews when it was done.
        summary.level_version = max(summary.level_version or 0, number)
        summary.level_at = at
    elif level > summary.level or (
        level == summary.level and number > (summary.level_version or 0)
    ):
        summary.level, summary.level_version, summary.level_at = level, number, at


def _repeats_aged_reading(summary: ExposureSummary, norm: Norm, base: int, at: datetime) -> bool:
    """A reading of the text they had read, once that reading is stale by age."""
    return (
        summary.level >= READ
        and summary.material_base == base
        and is_stale_by_age(summary.level_at, period_of(norm), at)
    )


def record_event(
    session: Session,
    user: User,
    norm: Norm,
    version: NormVersion | int,
    kind: str,
    at: datetime | None = None,
    *,
    response: Response | None = None,
) -> ExposureEvent | None:
    """Append one event to the ledger and update the member's summary with it.

    A "read" of the text they had read, once that reading has aged past the
    norm's re-read period, is recorded as a "reread". Returns None when the
    event adds nothing: a second "read" of the same version while the first is
    still fresh, the same version "opened" again within a few minutes, or a
    "delivered" to a member whose address is not confirmed (nothing is sent
    to such an address, so nothing was delivered; see accounts.verification).
    For ``responded`` the level comes from ``response`` (default: the member's
    latest response to the norm).
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"Unknown exposure event kind {kind!r}")
    if kind == "delivered" and not user.email_verified:
        return None
    at = at or utcnow()
    number = _version_number(version)
    if kind == "responded":
        if response is None:
            response = session.scalar(
                select(Response)
                .where(Response.norm_id == norm.id, Response.user_id == user.id)
                .order_by(Response.id.desc())
                .limit(1)
            )
        if response is None:
            raise ValueError("A 'responded' event needs a response")
        level = response_level(response.understood, response.endorsement)
    elif kind == "authored":
        level = ENDORSED
    elif kind == "reread":
        level = READ
    else:
        level = LEVEL_RANK[kind]
    base = _material_base(session, norm, number)
    summary = _locked_summary(session, user.id, norm.id, at)
    if kind == "read" and _repeats_aged_reading(summary, norm, base, at):
        kind = "reread"
    if kind == "read" and session.scalar(
        select(ExposureEvent.id).where(
            ExposureEvent.user_id == user.id,
            ExposureEvent.norm_id == norm.id,
            ExposureEvent.version_number == number,
            ExposureEvent.kind == "read",
        )
    ):
        return None
    if (
        kind == "opened"
        and summary.latest_version == number
        and summary.material_base == base
        and summary.level >= OPENED
        and summary.last_seen_at is not None
        and at - summary.last_seen_at < OPENED_DEBOUNCE
    ):
        return None
    event = ExposureEvent(
        user_id=user.id,
        norm_id=norm.id,
        version_number=number,
        kind=kind,
        level=LEVELS[level],
        created_at=at,
    )
    session.add(event)
    apply_event(summary, number, base, level, kind, at)
    session.flush()
    return event


def read_report_token(user: User, norm: Norm, version_number: int) -> str:
    """Signed proof that this page (norm, version) was rendered for this user."""
    claims = {"u": user.id, "n": norm.id, "v": int(version_number)}
    return tokens.sign(current_app.config["SECRET_KEY"], tokens.READ_REPORT, claims)


def record_read_report(
    session: Session, user: User | None, norm: Norm, version_number: Any, token: Any
) -> bool:
    """Record that ``user`` read ``version_number`` if the page's token vouches for it.

    Anything doubtful (forged, expired or someone else's token, an unknown
    version, a non-member, a repeat) is ignored: returns False, never raises.
    """
    if user is None or not isinstance(token, str) or not token:
        return False
    try:
        number = int(version_number)
        claims = tokens.verify(current_app.config["SECRET_KEY"], tokens.READ_REPORT, token)
    except (TypeError, ValueError, tokens.TokenExpired, tokens.TokenInvalid):
        return False
    if claims != {"u": user.id, "n": norm.id, "v": number}:
        return False
    if active_membership(session, norm.community, user) is None:
        return False
    version = session.scalar(
        select(NormVersion).where(NormVersion.norm_id == norm.id, NormVersion.number == number)
    )
    if version is None:
        return False
    return record_event(session, user, norm, version, "read") is not None
