"""What the exposure feature keeps about a member: in their data download, and erased
with their account.

A download holds the member's own ledger (what they were sent, opened, read,
responded to or wrote), the checks made about them and by them, and the
reminders they received and sent. Deleting the account folds their ledger into
anonymous counts (``FormerMemberExposure``) and removes the records that name
them as a subject: checks about them, reminders and nudges to them. Records
they made about others stay with the other person, under "a former member".
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, joinedload

from normhub.accounts.models import User
from normhub.db import dialect_insert, utc_iso
from normhub.exposure.models import (
    LEVELS,
    ExposureCheck,
    ExposureEvent,
    ExposureSummary,
    FormerMemberExposure,
    Nudge,
    Reminder,
)
from normhub.norms.models import Norm


def _norm(norm: Norm) -> dict:
    return {"community": norm.community.slug, "norm": norm.slug, "title": norm.title}


def _ledger(session: Session, user: User) -> list[dict]:
    rows = session.execute(
        select(ExposureEvent, Norm)
        .join(Norm, Norm.id == ExposureEvent.norm_id)
        .where(ExposureEvent.user_id == user.id)
        .options(joinedload(Norm.community))
        .order_by(ExposureEvent.id)
    )
    return [
        {
            **_norm(norm),
            "version": event.version_number,
            "what": event.kind,
            "level": event.level,
            "at": utc_iso(event.created_at),
        }
        for event, norm in rows
    ]


def _check(check: ExposureCheck) -> dict:
    return {
        **_norm(check.norm),
        "asked_by": check.checker.display_name,
        "about": check.subject.display_name,
        "asked_at": utc_iso(check.created_at),
        "as_of": utc_iso(check.as_of),
        "answer": check.answer,
        "note": check.note,
        "reply": check.reply,
    }


def _reminder(reminder: Reminder) -> dict:
    return {
        **_norm(reminder.norm),
        "kind": reminder.kind,
        "from": reminder.from_user.display_name,
        "to": reminder.to_user.display_name,
        "note": reminder.note,
        "reply": reminder.reply,
        "sent_at": utc_iso(reminder.created_at),
    }


def exposure_section(session: Session, user: User) -> dict:
    checks = session.scalars(
        select(ExposureCheck)
        .where(or_(ExposureCheck.subject_id == user.id, ExposureCheck.checker_id == user.id))
        .options(
            joinedload(ExposureCheck.norm).joinedload(Norm.community),
            joinedload(ExposureCheck.checker),
            joinedload(ExposureCheck.subject),
        )
        .order_by(ExposureCheck.id)
    ).all()
    reminders = session.scalars(
        select(Reminder)
        .where(or_(Reminder.to_user_id == user.id, Reminder.from_user_id == user.id))
        .options(
            joinedload(Reminder.norm).joinedload(Norm.community),
            joinedload(Reminder.from_user),
            joinedload(Reminder.to_user),
        )
        .order_by(Reminder.id)
    ).all()
    return {
        "ledger": _ledger(session, user),
        "checks_about_you": [_check(c) for c in checks if c.subject_id == user.id],
        "checks_you_made": [_check(c) for c in checks if c.checker_id == user.id],
        "reminders_to_you": [_reminder(r) for r in reminders if r.to_user_id == user.id],
        "reminders_you_sent": [_reminder(r) for r in reminders if r.from_user_id == user.id],
    }


def fold_into_anonymous_counts(session: Session, *, user: User, remove_writing: bool) -> None:
    """Count the member's deepest level on each norm anonymously, then drop their ledger
    and every record that names them as the person checked, reminded or nudged."""
    insert = dialect_insert(session.get_bind().dialect.name)
    reached = session.execute(
        select(ExposureSummary.norm_id, ExposureSummary.highest_level).where(
            ExposureSummary.user_id == user.id, ExposureSummary.highest_level > 0
        )
    ).all()
    for norm_id, level in reached:
        session.execute(
            insert(FormerMemberExposure)
            .values(norm_id=norm_id, level=level, members=1)
            .on_conflict_do_update(
                index_elements=["norm_id", "level"],
                set_={"members": FormerMemberExposure.members + 1},
            )
        )
    session.execute(delete(ExposureSummary).where(ExposureSummary.user_id == user.id))
    session.execute(delete(ExposureEvent).where(ExposureEvent.user_id == user.id))
    session.execute(delete(Reminder).where(Reminder.to_user_id == user.id))
    session.execute(delete(ExposureCheck).where(ExposureCheck.subject_id == user.id))
    session.execute(delete(Nudge).where(Nudge.member_id == user.id))


def former_member_levels(session: Session, norm: Norm) -> dict[str, int]:
    """How many people with since-deleted accounts reached each level of ``norm``, by name."""
    rows = session.execute(
        select(FormerMemberExposure.level, FormerMemberExposure.members).where(
            FormerMemberExposure.norm_id == norm.id, FormerMemberExposure.members > 0
        )
    )
    return {LEVELS[level]: members for level, members in rows}
