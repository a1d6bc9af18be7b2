"""The exposure check: where one person stands (``normhub.exposure.standing``), recorded.

Every check is recorded, and the person checked can read the record
(``checks_about``). The API records a check on every request, so the INSERT
is a DirectStatement (see :mod:`normhub.autocommit`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session, selectinload

from normhub import events
from normhub.accounts.models import User
from normhub.autocommit import DirectConnection, DirectStatement
from normhub.db import utcnow
from normhub.errors import Forbidden
from normhub.exposure.models import ExposureCheck
from normhub.exposure.report import Standing
from normhub.exposure.standing import standing
from normhub.norms.models import Norm

TIMELINE_LIMIT = 50


def check_exposure(
    db: Session | DirectConnection,
    norm: Norm,
    subject: User,
    *,
    as_of: datetime | None = None,
    timeline_limit: int = TIMELINE_LIMIT,
    fact_rows: list | None = None,
) -> Standing:
    """What an exposure check answers: ``standing`` with the ledger's timeline."""
    return standing(
        db, norm, subject, as_of=as_of, timeline_limit=timeline_limit, fact_rows=fact_rows
    )


# .values() gives each bind parameter its column's type.
_RECORD_CHECK = DirectStatement(
    insert(ExposureCheck).values(
        {
            column: bindparam(column)
            for column in (
                "checker_id",
                "subject_id",
                "norm_id",
                "created_at",
                "level",
                "stale",
                "answer",
            )
        }
    )
)


def record_check(
    db: Session | DirectConnection, checker: User, subject: User, norm: Norm, report: Standing
) -> datetime:
    """Record that ``checker`` asked about ``subject``; returns when.

    A plain INSERT run as a DirectStatement (no unit of work, no RETURNING):
    it runs on every check. ``checks_about`` reads the stored checks.
    """
    created_at = utcnow()
    _RECORD_CHECK.execute(
        db,
        {
            "checker_id": checker.id,
            "subject_id": subject.id,
            "norm_id": norm.id,
            "created_at": created_at,
            "level": report.current_level,
            "stale": report.stale,
            "answer": report.answer[:1000],
        },
    )
    facts = {
        "checker_id": checker.id,
        "subject_id": subject.id,
        "norm_id": norm.id,
        "checked_at": created_at,
    }
    if isinstance(db, Session):
        events.publish(db, events.Exposure.CheckRecorded, **facts)
    else:
        events.publish_committed(events.Exposure.CheckRecorded, **facts)
    return created_at


def checks_about(
    session: Session, subject: User, viewer: User | None, limit: int = 200
) -> list[ExposureCheck]:
    """Checks made about ``subject``, newest first; only they (or a site admin) may look."""
    if viewer is None or (viewer.id != subject.id and not viewer.is_admin):
        raise Forbidden("Only the person checked can see the checks made about them.")
    return list(
        session.scalars(
            select(ExposureCheck)
            .where(ExposureCheck.subject_id == subject.id)
            .order_by(ExposureCheck.id.desc())
            .limit(limit)
            .options(
                selectinload(ExposureCheck.checker),
                selectinload(ExposureCheck.norm).selectinload(Norm.community),
            )
        )
    )
