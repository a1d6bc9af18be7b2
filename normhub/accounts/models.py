from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from normhub.db import Base, utcnow

EMAIL_MAX = 254
DISPLAY_NAME_MAX = 80
BIO_MAX = 2000


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    display_name: Mapped[str] = mapped_column(String(DISPLAY_NAME_MAX))
    password_hash: Mapped[str] = mapped_column(String(255))
    bio: Mapped[str] = mapped_column(Text, default="")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # When the owner followed a confirmation link for ``email``; None: not yet,
    # and until then no digest and no ``delivered`` exposure (accounts.verification).
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # An address the owner asked to move to; ``email`` stays the one mail goes
    # to until a link sent to this one is followed.
    pending_email: Mapped[str | None] = mapped_column(String(EMAIL_MAX), nullable=True)
    # When the last confirmation link went out: resending waits a few minutes.
    verification_sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    # Flask-Login protocol
    is_active = True
    is_authenticated = True
    is_anonymous = False

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"
