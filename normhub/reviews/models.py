"""Reviews of norms in force: did the norm work, and did its stated assumptions hold?

A norm in force has a review date (``NormReviewSchedule``; the period is the
community's default, ``CommunityReviewSetting``, unless a steward set one on the
norm). When the date comes a round opens (``NormReview``), the members who had
responded to the norm are asked, and each answers once (``ReviewAnswer``, which
they may change while the round is open) about the norm and about each
assumption of the version reviewed (``ReviewAssumptionAnswer``).

The author or a steward decides: kept, revise or retire. At that moment the
tallies are stored on the round (``worked_*`` counts) and per assumption
(``ReviewAssumptionResult``): the recorded result is what the deciders saw, and
it stays as it was when a member later deletes their account (which deletes
their answers). While a round is open the tallies are counted from the answers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from normhub.accounts.models import User
from normhub.db import Base, utcnow
from normhub.norms.models import Assumption, Norm

OUTCOMES = ("kept", "revise", "retire")
OUTCOME_LABELS = {"kept": "Kept", "revise": "Revise", "retire": "Retire"}
VERDICTS = ("held", "failed", "unclear")
EVIDENCE_MAX = 300
DECISION_NOTE_MAX = 500
DEFAULT_PERIOD_DAYS = 90
PERIOD_MIN_DAYS = 7
PERIOD_MAX_DAYS = 1095


def verdict_of(held: int, failed: int, unclear: int) -> str | None:
    """One word for a set of answers: the plurality, "unclear" on a tie; None if none."""
    if held + failed + unclear == 0:
        return None
    if held > failed and held > unclear:
        return "held"
    if failed > held and failed > unclear:
        return "failed"
    return "unclear"


class CommunityReviewSetting(Base):
    """A community's review period; no row means ``DEFAULT_PERIOD_DAYS``."""

    __tablename__ = "community_review_settings"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    period_days: Mapped[int] = mapped_column(Integer)


class NormReviewSchedule(Base):
    """When a norm is next reviewed, and the period a steward set for it (None: the default)."""

    __tablename__ = "norm_review_schedules"

    norm_id: Mapped[int] = mapped_column(
        ForeignKey("norms.id", ondelete="CASCADE"), primary_key=True
    )
    period_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # None while the norm is not in force, or while a round is open.
    next_review_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)


class NormReview(Base):
    """One review round of one norm, from opening to the decision."""

    __tablename__ = "norm_reviews"
    __table_args__ = (Index("ix_norm_reviews_norm", "norm_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    norm_id: Mapped[int] = mapped_column(ForeignKey("norms.id", ondelete="CASCADE"))
    # The version in force when the round opened: its assumptions are the ones asked about.
    version_number: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The review date that opened the round.
    due_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(8), nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    decision_note: Mapped[str] = mapped_column(String(DECISION_NOTE_MAX), default="")
    # "Did the norm work?" as counted at the decision (None while open).
    worked_held: Mapped[int | None] = mapped_column(Integer, nullable=True)
    worked_failed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    worked_unclear: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # After "revise": the version the author saved in answer, once there is one.
    revised_in_version: Mapped[int | None] = mapped_column(Integer, nullable=True)

    norm: Mapped[Norm] = relationship()
    decided_by: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome or "", "Open")

    @property
    def awaits_revision(self) -> bool:
        return self.outcome == "revise" and self.revised_in_version is None


class ReviewAnswer(Base):
    """One member's answer to one round: did the norm work, with a sentence of evidence."""

    __tablename__ = "review_answers"
    __table_args__ = (UniqueConstraint("review_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("norm_reviews.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    worked: Mapped[str] = mapped_column(String(8))
    evidence: Mapped[str] = mapped_column(String(EVIDENCE_MAX), default="")
    answered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()
    assumption_answers: Mapped[list[ReviewAssumptionAnswer]] = relationship(
        cascade="all, delete-orphan", order_by="ReviewAssumptionAnswer.id"
    )


class ReviewAssumptionAnswer(Base):
    """Whether one assumption held, in one member's answer."""

    __tablename__ = "review_assumption_answers"
    __table_args__ = (UniqueConstraint("answer_id", "assumption_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("review_answers.id", ondelete="CASCADE"))
    assumption_id: Mapped[int] = mapped_column(
        ForeignKey("assumptions.id", ondelete="CASCADE"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(8))
    evidence: Mapped[str] = mapped_column(String(EVIDENCE_MAX), default="")

    assumption: Mapped[Assumption] = relationship()


class ReviewAssumptionResult(Base):
    """How one assumption fared in a decided round, counted at the decision."""

    __tablename__ = "review_assumption_results"

    review_id: Mapped[int] = mapped_column(
        ForeignKey("norm_reviews.id", ondelete="CASCADE"), primary_key=True
    )
    assumption_id: Mapped[int] = mapped_column(
        ForeignKey("assumptions.id", ondelete="CASCADE"), primary_key=True
    )
    held: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    unclear: Mapped[int] = mapped_column(Integer, default=0)

    assumption: Mapped[Assumption] = relationship()

    @property
    def verdict(self) -> str | None:
        return verdict_of(self.held, self.failed, self.unclear)
