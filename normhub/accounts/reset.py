"""Password reset links: signed, good for one hour, and void once the password changes.

A link carries the user's id and a fingerprint of their password hash as it
is when the link is made, signed for the purpose ``tokens.PASSWORD_RESET``.
Setting a password changes the hash (a new salt every time), so a link works
once: used, or overtaken by any other change of password, it is refused.
Nothing about a link is stored.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from normhub import tokens
from normhub.accounts.models import User
from normhub.errors import ValidationFailed

LINK_MINUTES = tokens.PASSWORD_RESET.max_age // 60


class ResetLinkRefused(ValidationFailed):
    """A reset link that cannot be used; the message says why, in plain words."""

    reason = ""

    def __init__(self):
        super().__init__(self.reason)


class LinkExpired(ResetLinkRefused):
    reason = f"This link has expired: a password reset link works for {LINK_MINUTES} minutes."


class LinkUsed(ResetLinkRefused):
    reason = "This link has been used already, or the password was changed since it was sent."


class LinkInvalid(ResetLinkRefused):
    reason = "This link is not valid. Check that you copied the whole link from the email."


def fingerprint(user: User) -> str:
    """Changes whenever the password does, and tells nothing about it."""
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:32]


def make_token(secret_key: str, user: User) -> str:
    return tokens.sign(
        secret_key, tokens.PASSWORD_RESET, {"user": user.id, "state": fingerprint(user)}
    )


def user_for_token(session: Session, secret_key: str, token: str, *, lock: bool = False) -> User:
    """The user a reset link is for, or ResetLinkRefused.

    ``lock`` holds the user's row until the transaction ends (PostgreSQL), so two
    uses of one link at the same moment cannot both set a password; SQLite's
    write transactions are one at a time already.
    """
    try:
        claims = tokens.verify(secret_key, tokens.PASSWORD_RESET, token)
    except tokens.TokenExpired:
        raise LinkExpired from None
    except tokens.TokenInvalid:
        raise LinkInvalid from None
    if not isinstance(claims, dict) or not isinstance(claims.get("user"), int):
        raise LinkInvalid
    statement = select(User).where(User.id == claims["user"])
    if lock:
        statement = statement.with_for_update()
    user = session.scalar(statement)
    if user is None:
        raise LinkInvalid
    if not hmac.compare_digest(str(claims.get("state", "")), fingerprint(user)):
        raise LinkUsed
    return user
