"""The exposure ledger: who was shown, opened, read, understood or endorsed which version.

``ExposureEvent`` is append-only history. ``ExposureSummary`` holds one row per
(user, norm), updated in the same transaction as every event, so questions like
"has Charlie read the current version?" are a primary-key lookup and coverage
is one GROUP BY over members.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from normhub.accounts.models import User
from normhub.communities.models import Community
from normhub.db import Base, utcnow
from normhub.norms.models import Norm

# Ordered: a higher index is deeper engagement.
LEVELS = ("none", "delivered", "opened", "read", "understood", "endorsed")
LEVEL_RANK = {name: rank for rank, name in enumerate(LEVELS)}
# "authored": writing a version (the first or a revision) is its editor's
# exposure to it at the endorsed level.
# "reread": a reading of the current text repeated once the first had aged past the
# re-read period (normhub.exposure.ageing); it refreshes when they last read it.
EVENT_KINDS = ("delivered", "opened", "read", "responded", "authored", "reread")
# The kinds that mean the person went through the text, not only had it shown.
READING_KINDS = ("read", "responded", "authored", "reread")
# A check's note (why one asked) and the checked person's reply: short, like a comment line.
NOTE_MAX = 500
REPLY_MAX = 500


class ExposureEvent(Base):
    __tablename__ = "exposure_events"
    __table_args__ = (
        Index("ix_exposure_events_user_norm", "user_id", "norm_id", "id"),
        # A version is read once: a second report of the same reading is noise.
        Index(
            "uq_exposure_events_read_once",
            "user_id",
            "norm_id",
            "version_number",
            unique=True,
            sqlite_where=text("kind = 'read'"),
            postgresql_where=text("kind = 'read'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    norm_id: Mapped[int] = mapped_column(ForeignKey("norms.id", ondelete="CASCADE"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ExposureSummary(Base):
    """Where one member stands with one norm.

    Two views of the same history:

    * ``highest_*``: the deepest level ever reached, on which version, when.
    * ``level*`` with ``material_base``: the deepest level reached on the
      newest "material family" seen, i.e. on versions whose newest material
      ancestor is ``material_base``. A minor revision keeps the family, so
      exposure survives it; a material revision starts a new family, so until
      the member engages with it their exposure is stale.
    """

    __tablename__ = "exposure_summaries"
    __table_args__ = (
        Index("ix_exposure_summaries_norm_level", "norm_id", "material_base", "level"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    norm_id: Mapped[int] = mapped_column(
        ForeignKey("norms.id", ondelete="CASCADE"), primary_key=True
    )
    first_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    material_base: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int] = mapped_column(SmallInteger, default=0)
    level_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    level_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    highest_level: Mapped[int] = mapped_column(SmallInteger, default=0)
    highest_level_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    highest_level_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # The newest material base among the versions the member responded to (None: no
    # response); equal to ``material_base`` when they responded to that family's text.
    responded_base: Mapped[int | None] = mapped_column(Integer, nullable=True)

    @property
    def level_name(self) -> str:
        return LEVELS[self.level]

    @property
    def highest_level_name(self) -> str:
        return LEVELS[self.highest_level]


class ExposureCheck(Base):
    """Someone asked whether ``subject`` had been exposed to ``norm``: the subject may see it.

    The record is whole: the answer exactly as the checker read it, the
    recommended next step's code (the checked person's page words it to
    them), the instant asked about (``as_of``, None for "now"), the checker's
    note, and the checked person's one reply, which the checker sees.
    """

    __tablename__ = "exposure_checks"
    # One index only: every API check inserts a row, and each index is another
    # page to write. Checks are read by subject; the checker and norm columns
    # are never searched (a cascade from deleting a user or norm scans).
    __table_args__ = (Index("ix_exposure_checks_subject", "subject_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    norm_id: Mapped[int] = mapped_column(ForeignKey("norms.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    level: Mapped[str] = mapped_column(String(16))
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    answer: Mapped[str] = mapped_column(Text)
    # None on checks recorded before 0012.
    recommendation: Mapped[str | None] = mapped_column(String(32), nullable=True)
    as_of: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    note: Mapped[str | None] = mapped_column(String(NOTE_MAX), nullable=True)
    reply: Mapped[str | None] = mapped_column(String(REPLY_MAX), nullable=True)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    checker: Mapped[User] = relationship(foreign_keys=[checker_id])
    subject: Mapped[User] = relationship(foreign_keys=[subject_id])
    norm: Mapped[Norm] = relationship()


class Nudge(Base):
    """A steward asked the digest to point ``member`` at ``norm``."""

    __tablename__ = "nudges"
    __table_args__ = (Index("ix_nudges_member_pending", "member_id", "delivered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    norm_id: Mapped[int] = mapped_column(ForeignKey("norms.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    norm: Mapped[Norm] = relationship()
    member: Mapped[User] = relationship(foreign_keys=[member_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])


# A reminder is one of two things, whichever the check before it found fair:
# "share" (they had not read the current text: the norm was sent to them) or
# "reminder" (they had: a note they can answer).
REMINDER_KINDS = ("share", "reminder")
REMINDER_TEXT_MAX = 1000


class Reminder(Base):
    """``from_user`` reminded ``to_user`` of ``norm``, right after checking what they had seen.

    ``check_id`` is that check; one check leads to one reminder at most.
    ``checked_found_exposed``: the check found them at "read" or better on
    the current text (the fair action was a reminder, not a share).
    """

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_to_user", "to_user_id", "id"),
        Index("ix_reminders_community", "community_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    norm_id: Mapped[int] = mapped_column(ForeignKey("norms.id", ondelete="CASCADE"))
    version_number: Mapped[int] = mapped_column(Integer)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    from_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    to_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    check_id: Mapped[int] = mapped_column(
        ForeignKey("exposure_checks.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(String(REMINDER_TEXT_MAX), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reply: Mapped[str | None] = mapped_column(String(REMINDER_TEXT_MAX), nullable=True)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    checked_found_exposed: Mapped[bool] = mapped_column(Boolean)

    norm: Mapped[Norm] = relationship()
    community: Mapped[Community] = relationship()
    from_user: Mapped[User] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User] = relationship(foreign_keys=[to_user_id])
    check: Mapped[ExposureCheck] = relationship()


__all__ = [
    "CoverageTally",
    "ExposureCheck",
    "ExposureEvent",
    "ExposureSummary",
    "Nudge",
    "Reminder",
]


class FormerMemberExposure(Base):
    """How many people who have since deleted their accounts reached each level of a norm.

    Their ledger rows go with the account (no check can name them again); these
    counts keep what the community had achieved, without saying who.
    ``level`` is the deepest level the person ever reached (LEVEL_RANK).
    """

    __tablename__ = "former_member_exposure"

    norm_id: Mapped[int] = mapped_column(
        ForeignKey("norms.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    members: Mapped[int] = mapped_column(Integer, default=0)


class CoverageTally(Base):
    """How many active members stand at a (norm, material base, level, responded): part
    of a count. ``responded``: 1 for members who responded to the text of that
    material base (``ExposureSummary.responded_base``), else 0.

    The database keeps these rows itself (triggers of migration 0026, on the
    summaries and the memberships), so every writer keeps them true.
    A key's count is the sum of its rows: SQLite keeps one row per key, while
    PostgreSQL appends a row per writing statement, which
    :func:`normhub.exposure.tallies.fold_tallies` folds together. Only levels
    above "none" are kept; members at none are the active members left over.
    """

    __tablename__ = "coverage_tallies"
    __table_args__ = (
        Index(
            "ux_coverage_tallies_key", "norm_id", "material_base", "level", "responded", unique=True
        ).ddl_if(dialect="sqlite"),
        Index("ix_coverage_tallies_key", "norm_id", "material_base", "level", "responded").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    norm_id: Mapped[int] = mapped_column(Integer)
    material_base: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(SmallInteger)
    responded: Mapped[int] = mapped_column(SmallInteger)
    members: Mapped[int] = mapped_column(Integer)
