from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from normhub.accounts.models import User
from normhub.db import Base, utcnow

VISIBILITIES = ("public", "members")
JOIN_POLICIES = ("open", "invite")
ROLES = ("member", "steward", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


class Community(Base):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    join_policy: Mapped[str] = mapped_column(String(16), default="open")
    # In-force gate: share of active members at "understood" or better on the
    # current version, plus a minimum number of responses.
    coverage_threshold_pct: Mapped[int] = mapped_column(Integer, default=75)
    coverage_min_responses: Mapped[int] = mapped_column(Integer, default=3)
    # Attention budget; None means no cap.
    max_open_norms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_open_per_author: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Ask members to read each norm again every so many months; None asks for no re-read
    # (see normhub.exposure.ageing).
    reread_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A member sees how others answered a norm once they answered it (or ask to see):
    # first answers are not anchored by the crowd's.
    hide_tallies_until_answered: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def is_public(self) -> bool:
        return self.visibility == "public"


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("community_id", "user_id"),
        # Counting a community's active members reads this index alone (migration 0028).
        Index(
            "ix_memberships_active",
            "community_id",
            sqlite_where=text("left_at IS NULL"),
            postgresql_where=text("left_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A member who leaves keeps the row (their history still points at it).
    left_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    community: Mapped[Community] = relationship()
    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.left_at is None

    def has_role(self, role: str) -> bool:
        return self.is_active and ROLE_RANK[self.role] >= ROLE_RANK[role]


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)

    community: Mapped[Community] = relationship()
    created_by: Mapped[User] = relationship()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None
