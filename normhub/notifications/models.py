"""Notices, watch levels per community, and how each kind of notice reaches a member."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from normhub.accounts.models import User
from normhub.communities.models import Community
from normhub.db import Base, utcnow
from normhub.norms.models import Norm

SUMMARY_MAX = 300


class Notification(Base):
    """One notice for one member.

    Notices about the same thing that come one after another fold into one
    while unread (``group_key``): five responses to a norm are "5 people
    responded", not five notices. ``count`` is how many things it stands for.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_unread", "user_id", "read_at", "id"),
        Index("ix_notifications_user_group", "user_id", "group_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    norm_id: Mapped[int | None] = mapped_column(
        ForeignKey("norms.id", ondelete="CASCADE"), nullable=True
    )
    # Who caused it, when one person did (the replier, the checker); None for a group.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # The words shown, fixed when the notice is made (the norm may change later).
    summary: Mapped[str] = mapped_column(String(SUMMARY_MAX))
    # Where the notice leads: a path on this site (the comment, the diff, the check).
    target: Mapped[str] = mapped_column(Text)
    group_key: Mapped[str] = mapped_column(String(80), default="")
    count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # When it went out by email (kinds sent at once), or None.
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    community: Mapped[Community] = relationship()
    norm: Mapped[Norm | None] = relationship()
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class CommunityWatch(Base):
    """A member's watch level in one community; no row means "normal"."""

    __tablename__ = "community_watches"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(String(12))


class NotificationSetting(Base):
    """How one kind of notice reaches a member; no row means the kind's default."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(12))


class NotificationProgress(Base):
    """How far a periodic job has turned another feature's rows into notices.

    The exposure check is the API's hottest path: it writes its record and
    nothing else, and a job tells the people checked a minute later, reading
    the records after ``last_id``.
    """

    __tablename__ = "notification_progress"

    source: Mapped[str] = mapped_column(String(24), primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
