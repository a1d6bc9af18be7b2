"""Builders for what a record counts: reminders as the remind flow records them, and review
rounds through the reviews feature (opened, answered, decided), at chosen instants."""

from __future__ import annotations

from datetime import datetime

from normhub.accounts.models import User
from normhub.exposure.check import check_exposure, record_page_check
from normhub.exposure.models import Reminder
from normhub.norms.models import Norm
from normhub.reviews.models import NormReview
from normhub.reviews.schedule import open_review
from normhub.reviews.services import AssumptionVerdict, decide, record_answer, reviewed_version


def remind(
    session,
    norm: Norm,
    sender: User,
    to: User,
    *,
    at: datetime,
    kind: str = "reminder",
    found_exposed: bool = True,
) -> Reminder:
    """A reminder (or share) after a recorded check, as the remind flow writes it."""
    check = record_page_check(session, sender, to, norm, check_exposure(session, norm, to))
    reminder = Reminder(
        norm_id=norm.id,
        version_number=norm.current_version_number,
        community_id=norm.community_id,
        from_user_id=sender.id,
        to_user_id=to.id,
        check_id=check.id,
        kind=kind,
        note="Have a look." if kind == "reminder" else "",
        checked_found_exposed=found_exposed,
        created_at=at,
    )
    session.add(reminder)
    session.flush()
    return reminder


def review(
    session,
    norm: Norm,
    *,
    decider: User | None = None,
    outcome: str | None = None,
    closed_at: datetime | None = None,
    note: str = "",
    answers: dict[User, str] | None = None,
    assumption_outcomes: dict[User, list[str]] | None = None,
) -> NormReview:
    """A round of ``norm``'s version in force, through the reviews feature: opened, answered,
    and decided by ``decider`` if ``outcome`` (then dated ``closed_at``, for the record's order).

    ``answers``: each member's "did it work" word; ``assumption_outcomes``: each member's
    word on the assumptions of the version, in order.
    """
    round_ = open_review(session, norm)
    version = reviewed_version(session, round_)
    assumption_outcomes = assumption_outcomes or {}
    for person, word in (answers or {}).items():
        said = assumption_outcomes.get(person, [])
        verdicts = [
            AssumptionVerdict(a.id, outcome_word, "")
            for a, outcome_word in zip(version.assumptions, said, strict=False)
        ]
        record_answer(session, round_, person, word, "", verdicts)
    if outcome is not None:
        decide(session, round_, decider, outcome, note)
        round_.closed_at = closed_at or round_.closed_at
        session.flush()
    return round_
