"""Builders for what a record counts: reminders as the remind flow records them, and decided
review rounds as the reviews feature stores them (the round, its answers, its per-assumption
results), at chosen instants."""

from __future__ import annotations

from datetime import datetime

from normhub.accounts.models import User
from normhub.exposure.check import check_exposure, record_page_check
from normhub.exposure.models import Reminder
from normhub.norms.models import Norm
from normhub.reviews.models import (
    NormReview,
    ReviewAnswer,
    ReviewAssumptionAnswer,
    ReviewAssumptionResult,
)


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
    outcome: str | None,
    closed_at: datetime | None,
    note: str = "",
    answers: dict[User, str] | None = None,
    assumption_outcomes: dict[User, list[str]] | None = None,
) -> NormReview:
    """A round of ``norm``'s version in force; decided (with its results stored) if ``outcome``.

    ``answers``: each member's "did it work" word; ``assumption_outcomes``: each member's
    word on every assumption of the version, in order.
    """
    version = norm.current_version
    opened = closed_at or datetime(2026, 1, 1)
    round_ = NormReview(
        norm_id=norm.id,
        version_number=version.number,
        opened_at=opened,
        due_at=opened,
        closed_at=closed_at,
        outcome=outcome,
        decision_note=note,
    )
    session.add(round_)
    session.flush()
    answers = answers or {}
    assumption_outcomes = assumption_outcomes or {}
    tallies = {a.id: {"held": 0, "failed": 0, "unclear": 0} for a in version.assumptions}
    worked = {"held": 0, "failed": 0, "unclear": 0}
    for person, word in answers.items():
        answer = ReviewAnswer(
            review_id=round_.id, user_id=person.id, worked=word, evidence="", answered_at=opened
        )
        for assumption, said in zip(
            version.assumptions, assumption_outcomes.get(person, []), strict=False
        ):
            answer.assumption_answers.append(
                ReviewAssumptionAnswer(assumption_id=assumption.id, outcome=said, evidence="")
            )
            tallies[assumption.id][said] += 1
        worked[word] += 1
        session.add(answer)
    if outcome is not None:
        round_.worked_held, round_.worked_failed = worked["held"], worked["failed"]
        round_.worked_unclear = worked["unclear"]
        for assumption_id, counts in tallies.items():
            session.add(
                ReviewAssumptionResult(review_id=round_.id, assumption_id=assumption_id, **counts)
            )
    session.flush()
    return round_
