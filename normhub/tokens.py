"""Signed tokens: one service, a salt and a lifetime per purpose.

Every link NormHub signs (a read report, an unsubscribe link, an address
confirmation link, and the reset links to come) goes through :func:`sign` and
:func:`verify` with a :class:`Purpose`, so a token made for one purpose is
refused for every other and each purpose expires on its own schedule.
Invite links are not signed tokens: they are random strings stored in the
database, because a steward must be able to list and revoke them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

DAY = 24 * 3600


@dataclass(frozen=True)
class Purpose:
    salt: str
    max_age: int  # seconds


READ_REPORT = Purpose("read-report", 14 * DAY)
UNSUBSCRIBE = Purpose("digest-unsubscribe", 60 * DAY)
# Confirms one address of one account (normhub.accounts.verification).
VERIFY_EMAIL = Purpose("verify-email", 2 * DAY)


class TokenExpired(Exception):
    """The signature is good but older than its purpose allows."""


class TokenInvalid(Exception):
    """Forged, cut short, signed with another key or made for another purpose."""


def sign(secret_key: str, purpose: Purpose, claims: Any) -> str:
    return URLSafeTimedSerializer(secret_key, salt=purpose.salt).dumps(claims)


def verify(secret_key: str, purpose: Purpose, token: str, max_age: int | None = None) -> Any:
    """The claims ``token`` carries, or TokenExpired / TokenInvalid."""
    serializer = URLSafeTimedSerializer(secret_key, salt=purpose.salt)
    try:
        return serializer.loads(token, max_age=purpose.max_age if max_age is None else max_age)
    except SignatureExpired as exc:
        raise TokenExpired(str(exc)) from exc
    except BadData as exc:
        raise TokenInvalid(str(exc)) from exc


def random_token(nbytes: int = 24) -> str:
    """An unguessable string for tokens kept in the database (invites)."""
    return secrets.token_urlsafe(nbytes)
