"""Reader responses. Append-only: a change of mind is a new row, never an update."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from normhub.accounts.models import User
from normhub.db import Base, utcnow
from normhub.norms.models import Assumption, NormVersion

UNDERSTOOD = ("yes", "partly", "no")
ENDORSEMENTS = ("endorse", "undecided", "reject")
AGREEMENTS = ("agree", "unsure", "disagree")
REASON_MAX = 2000


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (Index("ix_responses_norm_user", "norm_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    norm_id: Mapped[int] = mapped_column(ForeignKey("norms.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("norm_versions.id", ondelete="CASCADE"))
    understood: Mapped[str] = mapped_column(String(8))
    endorsement: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()
    version: Mapped[NormVersion] = relationship()
    assumption_responses: Mapped[list[AssumptionResponse]] = relationship(
        cascade="all, delete-orphan", order_by="AssumptionResponse.id"
    )


class AssumptionResponse(Base):
    __tablename__ = "assumption_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), index=True
    )
    assumption_id: Mapped[int] = mapped_column(
        ForeignKey("assumptions.id", ondelete="CASCADE"), index=True
    )
    understood: Mapped[str] = mapped_column(String(8))
    agreement: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text, default="")

    assumption: Mapped[Assumption] = relationship()
