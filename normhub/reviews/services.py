"""Answering a review, counting the answers, and deciding.

Who may answer: any active member, not only those asked. The members who had
responded are the ones asked (they said what they understood and endorsed, so
their view of whether it worked closes that loop), but a norm in force binds
every member, and one who joined later may have the evidence that it failed.

Who may decide: the norm's author or a steward (``review.decide``). Retiring
the norm is a steward's move everywhere (``norms.services.TRANSITIONS``), so
only a steward may decide "retire".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, selectinload

from normhub import events, policy
from normhub.accounts.models import User
from normhub.communities.services import active_membership, is_steward
from normhub.db import utcnow
from normhub.errors import Forbidden, NotFound, ValidationFailed
from normhub.idlist import id_list, in_ids
from normhub.norms.models import Assumption, Norm, NormVersion
from normhub.norms.refs import NORM_REF_COLUMNS
from normhub.norms.services import change_status
from normhub.responses.models import Response
from normhub.reviews.models import (
    DECISION_NOTE_MAX,
    EVIDENCE_MAX,
    OUTCOMES,
    VERDICTS,
    NormReview,
    ReviewAnswer,
    ReviewAssumptionAnswer,
    ReviewAssumptionResult,
    verdict_of,
)
from normhub.reviews.schedule import schedule_next
from normhub.text import require_plain_text

CLOSED = "This review is closed: its outcome is recorded."
VERDICT_REQUIRED = "Say whether it held, failed or is unclear."


@dataclass(frozen=True)
class AssumptionVerdict:
    assumption_id: int
    outcome: str
    evidence: str = ""


@dataclass
class Counts:
    held: int = 0
    failed: int = 0
    unclear: int = 0

    @property
    def total(self) -> int:
        return self.held + self.failed + self.unclear

    @property
    def verdict(self) -> str | None:
        return verdict_of(self.held, self.failed, self.unclear)

    def add(self, outcome: str, count: int = 1) -> None:
        setattr(self, outcome, getattr(self, outcome) + count)


@dataclass
class Tallies:
    """How a round's answers stand: about the norm, and per assumption (in order)."""

    worked: Counts
    assumptions: list[tuple[Assumption, Counts]] = field(default_factory=list)

    @property
    def failed_assumptions(self) -> list[Assumption]:
        return [a for a, counts in self.assumptions if counts.verdict == "failed"]


# -- Finding rounds ---------------------------------------------------------------------


def get_review(session: Session, norm: Norm, review_id: int) -> NormReview:
    review = session.get(NormReview, review_id)
    if review is None or review.norm_id != norm.id:
        raise NotFound("No such review of this norm.")
    return review


def list_reviews(session: Session, norm: Norm) -> list[NormReview]:
    return list(
        session.scalars(
            select(NormReview).where(NormReview.norm_id == norm.id).order_by(NormReview.id.desc())
        )
    )


def reviewed_version(session: Session, review: NormReview) -> NormVersion:
    return session.scalar(
        select(NormVersion)
        .where(NormVersion.norm_id == review.norm_id, NormVersion.number == review.version_number)
        .options(selectinload(NormVersion.assumptions))
    )


# -- Who may do what ------------------------------------------------------------------------


def can_answer(session: Session, review: NormReview, user: User | None) -> bool:
    membership = active_membership(session, review.norm.community, user)
    return review.is_open and policy.allows("review.answer", membership, user)


def may_decide(session: Session, norm: Norm, user: User | None) -> bool:
    """The author or a steward (whether or not a round is open)."""
    if user is None:
        return False
    membership = active_membership(session, norm.community, user)
    return policy.allows("review.decide", membership, user, is_author=norm.author_id == user.id)


def outcomes_for(session: Session, norm: Norm, user: User | None) -> tuple[str, ...]:
    if not may_decide(session, norm, user):
        return ()
    if is_steward(active_membership(session, norm.community, user), user):
        return OUTCOMES
    return tuple(o for o in OUTCOMES if o != "retire")


# -- Answering ------------------------------------------------------------------------------


def _clean_evidence(text: str | None, field_name: str) -> str:
    text = (text or "").strip()
    require_plain_text(text, "The evidence", field=field_name)
    if len(text) > EVIDENCE_MAX:
        raise ValidationFailed(
            f"Keep the evidence to one sentence (at most {EVIDENCE_MAX} characters).",
            field=field_name,
        )
    return text


def _clean_verdicts(
    version: NormVersion, verdicts: list[AssumptionVerdict]
) -> list[AssumptionVerdict]:
    allowed = {a.id for a in version.assumptions}
    cleaned: dict[int, AssumptionVerdict] = {}
    for item in verdicts:
        if item.assumption_id not in allowed:
            raise ValidationFailed("That assumption is not one of the version under review.")
        if item.outcome not in VERDICTS:
            raise ValidationFailed(VERDICT_REQUIRED, field="assumptions")
        evidence = _clean_evidence(item.evidence, "assumptions")
        cleaned[item.assumption_id] = AssumptionVerdict(item.assumption_id, item.outcome, evidence)
    return list(cleaned.values())


def own_answer(session: Session, review: NormReview, user: User | None) -> ReviewAnswer | None:
    if user is None:
        return None
    return session.scalar(
        select(ReviewAnswer)
        .where(ReviewAnswer.review_id == review.id, ReviewAnswer.user_id == user.id)
        .options(selectinload(ReviewAnswer.assumption_answers))
    )


def _keep_verdicts(answer: ReviewAnswer, verdicts: list[AssumptionVerdict]) -> None:
    """Update the rows in place: a row deleted and added again in one flush would meet
    the (answer, assumption) unique constraint before the delete."""
    existing = {row.assumption_id: row for row in answer.assumption_answers}
    wanted = {v.assumption_id for v in verdicts}
    for row in [row for row in answer.assumption_answers if row.assumption_id not in wanted]:
        answer.assumption_answers.remove(row)
    for verdict in verdicts:
        row = existing.get(verdict.assumption_id)
        if row is None:
            row = ReviewAssumptionAnswer(assumption_id=verdict.assumption_id)
            answer.assumption_answers.append(row)
        row.outcome, row.evidence = verdict.outcome, verdict.evidence


def record_answer(
    session: Session,
    review: NormReview,
    user: User,
    worked: str,
    evidence: str,
    verdicts: list[AssumptionVerdict],
) -> ReviewAnswer:
    """Keep ``user``'s answer (replacing the one they gave before, while the round is open)."""
    if not review.is_open:
        raise ValidationFailed(CLOSED)
    if not can_answer(session, review, user):
        raise Forbidden("Only members of this community can answer its reviews.")
    if worked not in VERDICTS:
        raise ValidationFailed("Say whether the norm worked, failed or is unclear.", "worked")
    evidence = _clean_evidence(evidence, "evidence")
    verdicts = _clean_verdicts(reviewed_version(session, review), verdicts)
    answer = own_answer(session, review, user)
    first = answer is None
    if first:
        answer = ReviewAnswer(review_id=review.id, user_id=user.id)
        session.add(answer)
    answer.worked, answer.evidence, answer.answered_at = worked, evidence, utcnow()
    _keep_verdicts(answer, verdicts)
    session.flush()
    events.publish(
        session,
        events.Review.Answered,
        review=review,
        norm=review.norm,
        answer=answer,
        user=user,
        first=first,
    )
    return answer


# -- Counting -------------------------------------------------------------------------------


def _live_counts(session: Session, review: NormReview) -> tuple[Counts, dict[int, Counts]]:
    worked = Counts()
    for outcome, count in session.execute(
        select(ReviewAnswer.worked, func.count())
        .where(ReviewAnswer.review_id == review.id)
        .group_by(ReviewAnswer.worked)
    ):
        worked.add(outcome, count)
    per_assumption: dict[int, Counts] = defaultdict(Counts)
    for assumption_id, outcome, count in session.execute(
        select(ReviewAssumptionAnswer.assumption_id, ReviewAssumptionAnswer.outcome, func.count())
        .join(ReviewAnswer, ReviewAnswer.id == ReviewAssumptionAnswer.answer_id)
        .where(ReviewAnswer.review_id == review.id)
        .group_by(ReviewAssumptionAnswer.assumption_id, ReviewAssumptionAnswer.outcome)
    ):
        per_assumption[assumption_id].add(outcome, count)
    return worked, per_assumption


def _stored_counts(session: Session, review: NormReview) -> tuple[Counts, dict[int, Counts]]:
    worked = Counts(review.worked_held or 0, review.worked_failed or 0, review.worked_unclear or 0)
    per_assumption = {
        row.assumption_id: Counts(row.held, row.failed, row.unclear)
        for row in session.scalars(
            select(ReviewAssumptionResult).where(ReviewAssumptionResult.review_id == review.id)
        )
    }
    return worked, per_assumption


def tallies(session: Session, review: NormReview, version: NormVersion | None = None) -> Tallies:
    """Counted from the answers while open; as kept at the decision once decided."""
    version = version or reviewed_version(session, review)
    decided = review.outcome is not None
    worked, per_assumption = (_stored_counts if decided else _live_counts)(session, review)
    return Tallies(worked, [(a, per_assumption.get(a.id) or Counts()) for a in version.assumptions])


def evidence_given(session: Session, review: NormReview) -> list[ReviewAnswer]:
    """Every answer with its evidence, for those who decide (shown without names)."""
    return list(
        session.scalars(
            select(ReviewAnswer)
            .where(ReviewAnswer.review_id == review.id)
            .options(selectinload(ReviewAnswer.assumption_answers))
            .order_by(ReviewAnswer.answered_at, ReviewAnswer.id)
        )
    )


# -- Deciding -------------------------------------------------------------------------------


def _keep_counts(session: Session, review: NormReview, counted: Tallies) -> None:
    review.worked_held = counted.worked.held
    review.worked_failed = counted.worked.failed
    review.worked_unclear = counted.worked.unclear
    for assumption, counts in counted.assumptions:
        session.add(
            ReviewAssumptionResult(
                review_id=review.id,
                assumption_id=assumption.id,
                held=counts.held,
                failed=counts.failed,
                unclear=counts.unclear,
            )
        )


def decide(
    session: Session, review: NormReview, actor: User, outcome: str, note: str = ""
) -> NormReview:
    """Close the round with ``outcome``: kept sets the next review date; revise asks the
    author for a new version; retire retires the norm (its status events fire)."""
    norm = review.norm
    if not review.is_open:
        raise ValidationFailed(CLOSED)
    if not may_decide(session, norm, actor):
        raise Forbidden("Only the norm's author or a steward can decide its review.")
    if outcome not in OUTCOMES:
        raise ValidationFailed("Choose kept, revise or retire.", field="outcome")
    if outcome not in outcomes_for(session, norm, actor):
        raise Forbidden("Only a steward can retire a norm.")
    note = (note or "").strip()
    require_plain_text(note, "The note", field="note", multiline=True)
    if len(note) > DECISION_NOTE_MAX:
        raise ValidationFailed(
            f"Keep the note to at most {DECISION_NOTE_MAX} characters.", field="note"
        )
    counted = tallies(session, review)
    _keep_counts(session, review, counted)
    review.outcome, review.decision_note = outcome, note
    review.decided_by_id, review.closed_at = actor.id, utcnow()
    session.flush()
    if outcome == "retire":
        change_status(session, norm, actor, "retired", note or "Retired after its review.")
    else:
        schedule_next(session, norm, review.closed_at)
    answerer_ids = list(
        session.scalars(select(ReviewAnswer.user_id).where(ReviewAnswer.review_id == review.id))
    )
    events.publish(
        session,
        events.Review.Decided,
        review=review,
        norm=norm,
        actor=actor,
        answerer_ids=answerer_ids,
    )
    return review


def norm_revised(session: Session, *, norm, version, material) -> None:
    """A version saved after a "revise" answers it (the author's draft revision is done)."""
    waiting = session.scalars(
        select(NormReview).where(
            NormReview.norm_id == norm.id,
            NormReview.outcome == "revise",
            NormReview.revised_in_version.is_(None),
        )
    )
    for review in waiting:
        review.revised_in_version = version.number
    session.flush()


# -- For the digest -------------------------------------------------------------------------


def waiting_reviews(session: Session, user_ids: list[int], community_ids) -> list:
    """Open rounds each of ``user_ids`` was asked (they responded to the norm) and has
    not answered yet: rows of ``user_id``, ``review_id``, ``opened_at`` and the norm's
    ``NORM_REF_COLUMNS``. One query for a batch of members."""
    if not user_ids or not community_ids:
        return []
    parameters = {"user_ids": user_ids, "community_ids": sorted(community_ids)}
    return list(session.execute(_waiting_reviews_statement(), parameters))


@cache
def _waiting_reviews_statement():
    # Built once, with bound parameters (``user_ids``, ``community_ids``): building it
    # cost more CPU than running it, on every digest preview.
    answered = (
        select(ReviewAnswer.id)
        .where(ReviewAnswer.review_id == NormReview.id, ReviewAnswer.user_id == Response.user_id)
        .exists()
    )
    return (
        select(
            Response.user_id,
            NormReview.id.label("review_id"),
            NormReview.opened_at,
            *NORM_REF_COLUMNS,
        )
        .join(NormReview, NormReview.norm_id == Response.norm_id)
        .join(Norm, Norm.id == NormReview.norm_id)
        .where(
            in_ids(Response.user_id, id_list("user_ids")),
            Norm.community_id.in_(bindparam("community_ids", expanding=True)),
            NormReview.closed_at.is_(None),
            ~answered,
        )
        .distinct()
        .order_by(Response.user_id, NormReview.id)
    )
