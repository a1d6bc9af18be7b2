"""Digest preferences and the per-period send ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from normhub.db import Base, utcnow

FREQUENCIES = ("daily", "weekly", "off")
FREQUENCY_LABELS = {"daily": "Daily", "weekly": "Weekly", "off": "Off"}
# A member with no preference row for a community gets the weekly digest.
DEFAULT_FREQUENCY = "weekly"
PERIOD_KINDS = ("daily", "weekly")

# DigestSend.status. "pending" rows were claimed but never handed to SMTP;
# "sending" rows were handed over (or were about to be) when the process last
# wrote; the other four are final for the period, except "failed", which the
# next run retries.
SEND_STATUSES = ("pending", "sending", "sent", "failed", "bounced", "skipped")
FINAL_STATUSES = ("sent", "bounced", "skipped")
# DigestSend.scope of a run over all of a member's communities.
ALL_COMMUNITIES = 0
# A row in these states covers its scope's content for the period: sent, or
# being sent (and retried) by the run that recorded it.
COVERING_STATUSES = ("pending", "sending", "sent", "failed", "bounced")


class DigestPreference(Base):
    __tablename__ = "digest_preferences"
    __table_args__ = (UniqueConstraint("user_id", "community_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    frequency: Mapped[str] = mapped_column(String(8), default=DEFAULT_FREQUENCY)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class DigestSend(Base):
    """One member's digest for one period: the exactly-once ledger.

    The unique key (user, period kind, period key, scope) is what stops a rerun
    from sending a second digest for the same period. ``scope`` is 0 for a run
    over all communities, or the community id of a ``--community`` run: that
    run's record covers only that community, and a full run of the same period
    leaves that community out of the member's digest (and a ``--community``
    run leaves out members whose full digest of the period is already under
    way or sent).
    """

    __tablename__ = "digest_sends"
    __table_args__ = (
        UniqueConstraint("user_id", "period_kind", "period_key", "scope"),
        Index("ix_digest_sends_period_status", "period_kind", "period_key", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    period_kind: Mapped[str] = mapped_column(String(8))
    period_key: Mapped[str] = mapped_column(String(10))
    scope: Mapped[int] = mapped_column(Integer, default=ALL_COMMUNITIES)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    # The content window: what happened in [window_start, window_end) is news.
    window_start: Mapped[datetime] = mapped_column(DateTime)
    window_end: Mapped[datetime] = mapped_column(DateTime)
    norm_count: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # "host:pid" of the run that claimed the row, so a rerun on the same host
    # can tell a dead run's claims from a live one's.
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


__all__ = ["DigestPreference", "DigestSend"]
