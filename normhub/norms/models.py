from __future__ import annotations

from datetime import datetime

from markupsafe import Markup
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from normhub import cooked
from normhub.accounts.models import User
from normhub.communities.models import Community
from normhub.db import Base, utcnow

TITLE_MAX = 160
SUMMARY_MAX = 1000
BODY_MAX = 100_000
TAG_MAX = 40
STATEMENT_MAX = 300
EXPLANATION_MAX = 4000
CHANGE_SUMMARY_MAX = 500

STATUSES = ("draft", "open", "in_force", "retired", "withdrawn")
STATUS_LABELS = {
    "draft": "Draft",
    "open": "Open for discussion",
    "in_force": "In force",
    "retired": "Retired",
    "withdrawn": "Withdrawn",
}


def pending_version(status: str, in_force: int | None, current: int) -> int | None:
    """The proposed version of a norm in force whose text in force is older, if any."""
    if status != "in_force" or in_force is None or in_force >= current:
        return None
    return current


class Norm(Base):
    __tablename__ = "norms"
    __table_args__ = (
        UniqueConstraint("community_id", "slug"),
        Index("ix_norms_community_status", "community_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(80))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # Mirrors of the current version, so lists never join the versions table.
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    summary: Mapped[str] = mapped_column(Text)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("norm_versions.id", use_alter=True, name="fk_norms_current_version"),
        nullable=True,
    )
    current_version_number: Mapped[int] = mapped_column(Integer, default=1)
    # Number of the newest *material* version: exposure to anything older is stale.
    last_material_version_number: Mapped[int] = mapped_column(Integer, default=1)
    # The version members are bound by, once the norm has come into force. A
    # material revision of a norm in force is only proposed: the earlier
    # version stays in force until the new one passes the in-force gate.
    in_force_version_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The norm's own re-read period in months: None follows the community's, 0 asks for
    # none (see normhub.exposure.ageing).
    reread_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    community: Mapped[Community] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    current_version: Mapped[NormVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    tags: Mapped[list[NormTag]] = relationship(cascade="all, delete-orphan", order_by="NormTag.tag")

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def pending_version_number(self) -> int | None:
        """The materially revised version waiting for the in-force gate, if any."""
        return pending_version(
            self.status, self.in_force_version_number, self.current_version_number
        )

    @property
    def tag_names(self) -> list[str]:
        return [t.tag for t in self.tags]


class NormVersion(Base):
    """An immutable snapshot of a norm's text and assumptions."""

    __tablename__ = "norm_versions"
    __table_args__ = (UniqueConstraint("norm_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    norm_id: Mapped[int] = mapped_column(ForeignKey("norms.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    body_cooked: Mapped[str | None] = mapped_column(Text, nullable=True)
    body_cooked_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    change_summary: Mapped[str] = mapped_column(String(CHANGE_SUMMARY_MAX), default="")
    is_material: Mapped[bool] = mapped_column(Boolean, default=True)

    norm: Mapped[Norm] = relationship(foreign_keys=[norm_id])
    editor: Mapped[User] = relationship()
    assumptions: Mapped[list[Assumption]] = relationship(
        cascade="all, delete-orphan", order_by="Assumption.position"
    )

    def body_html(self, mentions=None) -> Markup:
        return cooked.html(self, "body", mentions)


class Assumption(Base):
    """One numbered assumption of one version.

    ``key`` identifies the same assumption across versions (it survives
    rewording and reordering), so diffs can say added / removed / reworded.
    """

    __tablename__ = "assumptions"
    __table_args__ = (
        UniqueConstraint("version_id", "position"),
        UniqueConstraint("version_id", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("norm_versions.id", ondelete="CASCADE"))
    key: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    statement: Mapped[str] = mapped_column(String(STATEMENT_MAX))
    explanation: Mapped[str] = mapped_column(Text, default="")
    explanation_cooked: Mapped[str | None] = mapped_column(Text, nullable=True)
    explanation_cooked_version: Mapped[int | None] = mapped_column(Integer, nullable=True)

    def explanation_html(self) -> Markup:
        # No mentions: an explanation shows every @handle as typed.
        return cooked.html(self, "explanation")


class NormTag(Base):
    __tablename__ = "norm_tags"

    norm_id: Mapped[int] = mapped_column(
        ForeignKey("norms.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(TAG_MAX), primary_key=True, index=True)


class NormPrerequisite(Base):
    """``norm`` builds on ``prerequisite``."""

    __tablename__ = "norm_prerequisites"

    norm_id: Mapped[int] = mapped_column(
        ForeignKey("norms.id", ondelete="CASCADE"), primary_key=True
    )
    prerequisite_id: Mapped[int] = mapped_column(
        ForeignKey("norms.id", ondelete="CASCADE"), primary_key=True
    )


class StatusChange(Base):
    __tablename__ = "norm_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    norm_id: Mapped[int] = mapped_column(ForeignKey("norms.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    note: Mapped[str] = mapped_column(String(500), default="")

    changed_by: Mapped[User] = relationship()


cooked.keep_cooked(NormVersion, "body")
cooked.keep_cooked(Assumption, "explanation")


def norm_id_of(session, part) -> int | None:
    """The norm a part of it (a version, an assumption, a prerequisite, ...) belongs to."""
    if isinstance(part, Assumption):
        version = session.get(NormVersion, part.version_id) if part.version_id else None
        return version.norm_id if version is not None else None
    return part.norm_id
