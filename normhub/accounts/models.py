from __future__ import annotations

import secrets
import string
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from normhub import cooked
from normhub.db import Base, utcnow

EMAIL_MAX = 254
DISPLAY_NAME_MAX = 80
BIO_MAX = 2000
USER_AGENT_MAX = 200

HANDLE_LENGTH = 12
# What pages, emails and exports call the author of a deleted account's writing.
FORMER_MEMBER_NAME = "A former member"
_HANDLE_ALPHABET = string.ascii_lowercase + string.digits


def new_handle() -> str:
    """A member's public handle: 12 random lowercase letters and digits (62 bits).

    Profile addresses use it instead of the id, so members cannot be listed by
    counting /members/1, /members/2, ...
    """
    return "".join(secrets.choice(_HANDLE_ALPHABET) for _ in range(HANDLE_LENGTH))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    display_name: Mapped[str] = mapped_column(String(DISPLAY_NAME_MAX))
    # The member's address on the site (/members/<handle>); never the id.
    handle: Mapped[str] = mapped_column(
        String(HANDLE_LENGTH), index=True, unique=True, default=new_handle
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    bio: Mapped[str] = mapped_column(Text, default="")
    bio_cooked: Mapped[str | None] = mapped_column(Text, nullable=True)
    bio_cooked_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
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
    # When the owner deleted the account: the row stays only so that the norms and
    # comments they wrote keep an author, with no name, address or password left.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    # Flask-Login protocol (a deleted account cannot log in: is_active is False)
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def get_id(self) -> str:
        return str(self.id)

    def bio_html(self) -> Markup:
        # No mentions: a profile shows every @handle as typed.
        return cooked.html(self, "bio")

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


cooked.keep_cooked(User, "bio")


class LoginSession(Base):
    """One browser's login, kept on the server so it can be ended there.

    The browser's (signed) session cookie carries a random secret; only its
    sha256 is stored, so the table cannot be used to take over a login. Logging
    out deletes the row, and a cookie whose row is gone logs in no one.
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Refreshed at most every few minutes (logins.LAST_SEEN_RESOLUTION).
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    # The browser's own description, cut short: lets the owner tell their logins apart.
    user_agent: Mapped[str] = mapped_column(String(USER_AGENT_MAX), default="")

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} of user {self.user_id}>"
