"""Signed tokens: one service, a salt and a lifetime per purpose.

Every link NormHub signs (a read report, an unsubscribe link, a password
reset link, an address confirmation link) goes through :func:`sign` and
:func:`verify` with a :class:`Purpose`, so a token made for one purpose is
refused for every other and each purpose expires on its own schedule.
Timestamps come from :func:`clock`, which tests replace to move time on.
Invite links are not signed tokens: they are random strings stored in the
database, because a steward must be able to list and revoke them.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

DAY = 24 * 3600


@dataclass(frozen=True)
class Purpose:
    salt: str
    max_age: int  # seconds


READ_REPORT = Purpose("read-report", 14 * DAY)
UNSUBSCRIBE = Purpose("digest-unsubscribe", 60 * DAY)
PASSWORD_RESET = Purpose("password-reset", 3600)


def clock() -> float:
    """Seconds since the epoch: when a token is signed, and what its age is measured against."""
    return time.time()


class _Signer(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(clock())


def _serializer(secret_key: str, purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=purpose.salt, signer=_Signer)


# Confirms one address of one account (normhub.accounts.verification).
VERIFY_EMAIL = Purpose("verify-email", 2 * DAY)


class TokenExpired(Exception):
    """The signature is good but older than its purpose allows."""


class TokenInvalid(Exception):
    """Forged, cut short, signed with another key or made for another purpose."""


def sign(secret_key: str, purpose: Purpose, claims: Any) -> str:
    return _serializer(secret_key, purpose).dumps(claims)


def verify(secret_key: str, purpose: Purpose, token: str, max_age: int | None = None) -> Any:
    """The claims ``token`` carries, or TokenExpired / TokenInvalid."""
    serializer = _serializer(secret_key, purpose)
    try:
        return serializer.loads(token, max_age=purpose.max_age if max_age is None else max_age)
    except SignatureExpired as exc:
        raise TokenExpired(str(exc)) from exc
    except BadData as exc:
        raise TokenInvalid(str(exc)) from exc


def hash_secret(secret: str) -> str:
    """The stored form of a random secret (a login's, an API token's).

    Secrets of 32 random bytes need no slow hash: sha256 keeps each request's
    lookup cheap, and the database never holds what a cookie or header carries.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def random_token(nbytes: int = 24) -> str:
    """An unguessable string for tokens kept in the database (invites)."""
    return secrets.token_urlsafe(nbytes)


# Stops one kind of notification email (normhub.notifications.emails), from the email itself.
NOTIFICATION_UNSUBSCRIBE = Purpose("notification-unsubscribe", 60 * DAY)
