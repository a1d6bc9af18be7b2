"""Personal API tokens: a user's key for the JSON API, stored only as a hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from normhub.accounts.models import User
from normhub.db import Base, utcnow

TOKEN_NAME_MAX = 80
TOKEN_PREFIX_LENGTH = 8
# How long a new token works, in days: the owner picks one; 90 unless they do.
TOKEN_LIFETIMES = (30, 90, 365)
TOKEN_DEFAULT_LIFETIME = 90


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(TOKEN_NAME_MAX))
    # sha256 hex of the secret: a token is random enough that a slow hash adds
    # nothing, and a fast one keeps the per-request lookup cheap.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # First characters of the secret, so the owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(TOKEN_PREFIX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Every token stops working by a date; tokens from before expiry dates got one (0014).
    expires_at: Mapped[datetime] = mapped_column(DateTime)

    user: Mapped[User] = relationship()

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired


__all__ = ["ApiToken"]
