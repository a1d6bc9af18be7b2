"""The exposure check: where one person stands (``normhub.exposure.standing``), recorded.

Every check is recorded whole (the answer as given, the next step's code, the
instant asked about, the checker's note), and the person checked can read the
record (``normhub.exposure.check_records``). The API records a check on every
request, so its INSERT is a DirectStatement (see :mod:`normhub.autocommit`);
the check page records through the session, which gives it the row's id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert
from sqlalchemy.orm import Session

from normhub import events
from normhub.accounts.models import User
from normhub.autocommit import DirectConnection, DirectStatement
from normhub.db import utcnow
from normhub.errors import ValidationFailed
from normhub.exposure.models import NOTE_MAX, ExposureCheck
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
                "recommendation",
                "as_of",
                "note",
            )
        }
    )
)


def _check_row(
    checker: User, subject: User, norm: Norm, report: Standing, note: str | None
) -> dict:
    """The columns of one check's record: the whole answer, never cut."""
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise ValidationFailed(f"Keep the note under {NOTE_MAX} characters.", field="note")
    return {
        "checker_id": checker.id,
        "subject_id": subject.id,
        "norm_id": norm.id,
        "created_at": utcnow(),
        "level": report.current_level,
        "stale": report.stale,
        "answer": report.answer,
        "recommendation": report.recommendation.code if report.recommendation else None,
        "as_of": report.as_of,
        "note": note,
    }


def _announce(db: Session | DirectConnection, row: dict) -> None:
    facts = {
        "checker_id": row["checker_id"],
        "subject_id": row["subject_id"],
        "norm_id": row["norm_id"],
        "checked_at": row["created_at"],
    }
    if isinstance(db, Session):
        events.publish(db, events.Exposure.CheckRecorded, **facts)
    else:
        events.publish_committed(events.Exposure.CheckRecorded, **facts)


def record_check(
    db: Session | DirectConnection,
    checker: User,
    subject: User,
    norm: Norm,
    report: Standing,
    *,
    note: str | None = None,
) -> datetime:
    """Record that ``checker`` asked about ``subject``; returns when.

    A plain INSERT run as a DirectStatement (no unit of work, no RETURNING):
    the API runs it on every check.
    """
    row = _check_row(checker, subject, norm, report, note)
    _RECORD_CHECK.execute(db, row)
    _announce(db, row)
    return row["created_at"]


def record_page_check(
    session: Session,
    checker: User,
    subject: User,
    norm: Norm,
    report: Standing,
    *,
    note: str | None = None,
) -> ExposureCheck:
    """Record a check made on the check page; the row (with its id) for the page to show."""
    row = _check_row(checker, subject, norm, report, note)
    check = ExposureCheck(**row)
    session.add(check)
    session.flush()
    _announce(session, row)
    return check
