"""A member's review answers, in their data download; their evidence taken down on request.

As with responses, the answers themselves (worked, held, failed, unclear) stay
when the account is deleted, held by "a former member": an open round's tallies
count them, and a decided round kept its counts at the decision anyway. The
sentences of evidence are the member's writing and go when they ask.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from normhub.accounts.models import User
from normhub.db import utc_iso
from normhub.norms.models import Norm
from normhub.reviews.models import NormReview, ReviewAnswer, ReviewAssumptionAnswer


def reviews_section(session: Session, user: User) -> list[dict]:
    rows = session.execute(
        select(ReviewAnswer, NormReview)
        .join(NormReview, NormReview.id == ReviewAnswer.review_id)
        .where(ReviewAnswer.user_id == user.id)
        .options(
            joinedload(NormReview.norm).joinedload(Norm.community),
            selectinload(ReviewAnswer.assumption_answers).joinedload(
                ReviewAssumptionAnswer.assumption
            ),
        )
        .order_by(ReviewAnswer.id)
    ).all()
    return [
        {
            "community": review.norm.community.slug,
            "norm": review.norm.slug,
            "review": review.id,
            "version": review.version_number,
            "worked": answer.worked,
            "evidence": answer.evidence,
            "assumptions": [
                {
                    "number": a.assumption.position,
                    "statement": a.assumption.statement,
                    "outcome": a.outcome,
                    "evidence": a.evidence,
                }
                for a in answer.assumption_answers
            ],
            "answered_at": utc_iso(answer.answered_at),
        }
        for answer, review in rows
    ]


def remove_evidence(session: Session, *, user: User, remove_writing: bool) -> None:
    """With ``remove_writing``, blank the evidence the member wrote; the answers stay."""
    if not remove_writing:
        return
    mine = select(ReviewAnswer.id).where(ReviewAnswer.user_id == user.id)
    session.execute(update(ReviewAnswer).where(ReviewAnswer.user_id == user.id).values(evidence=""))
    session.execute(
        update(ReviewAssumptionAnswer)
        .where(ReviewAssumptionAnswer.answer_id.in_(mine))
        .values(evidence="")
    )
