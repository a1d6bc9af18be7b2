"""Login sessions kept on the server: started at login, checked on every request, ended there.

A browser's session cookie carries the secret of one :class:`LoginSession`
row. The row ends when its owner logs out there, logs out everywhere, ends it
from the settings page, changes or resets the password (every row; the
browser doing it logs in afresh), or when it outlives either lifetime:
``idle`` (no request for that long) or ``absolute`` (that long since the
login, however busy).
Services here take the SQLAlchemy session first and never commit.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from normhub.accounts.models import USER_AGENT_MAX, LoginSession, User
from normhub.db import utcnow
from normhub.errors import NotFound
from normhub.tokens import hash_secret

# last_seen_at is refreshed at most this often: the idle lifetime is days, and
# a write on every request would cost far more than it tells.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)
SECRET_BYTES = 32
# A secret we issued is 43 characters; anything much longer is not ours.
SECRET_MAX = 100


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def from_config(cls, config) -> Lifetimes:
        return cls(
            idle=timedelta(days=config["SESSION_IDLE_DAYS"]),
            absolute=timedelta(days=config["SESSION_MAX_DAYS"]),
        )


def start(
    session: Session, user: User, user_agent: str = "", now: datetime | None = None
) -> tuple[LoginSession, str]:
    """A new login for ``user`` and its secret, which only the browser's cookie keeps."""
    now = now or utcnow()
    secret = secrets.token_urlsafe(SECRET_BYTES)
    login = LoginSession(
        user_id=user.id,
        secret_hash=hash_secret(secret),
        created_at=now,
        last_seen_at=now,
        user_agent=(user_agent or "")[:USER_AGENT_MAX],
    )
    session.add(login)
    session.flush()
    return login, secret


@cache
def _login_statement():
    # Built once: it runs on every request of a logged-in browser.
    return (
        select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.secret_hash == bindparam("secret_hash"))
    )


def find(session: Session, secret: str) -> tuple[LoginSession, User] | None:
    """The login this secret belongs to, with its user; None if it has ended or never was."""
    if not secret or len(secret) > SECRET_MAX:
        return None
    row = session.execute(_login_statement(), {"secret_hash": hash_secret(secret)}).first()
    return (row[0], row[1]) if row is not None else None


def is_current(login: LoginSession, lifetimes: Lifetimes, now: datetime | None = None) -> bool:
    """Whether ``login`` is within both lifetimes at ``now``."""
    now = now or utcnow()
    return (
        now - login.last_seen_at <= lifetimes.idle and now - login.created_at <= lifetimes.absolute
    )


def needs_touch(login: LoginSession, now: datetime | None = None) -> bool:
    return (now or utcnow()) - login.last_seen_at >= LAST_SEEN_RESOLUTION


def touch(session: Session, login: LoginSession, now: datetime | None = None) -> None:
    """Record that the login was used: a plain UPDATE by id."""
    now = now or utcnow()
    session.execute(
        update(LoginSession)
        .where(LoginSession.id == login.id)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(login, "last_seen_at", now)  # written already: not a change to flush


def end(session: Session, secret: str) -> None:
    """End the login this secret belongs to (logging out); nothing if there is none."""
    if secret and len(secret) <= SECRET_MAX:
        session.execute(delete(LoginSession).where(LoginSession.secret_hash == hash_secret(secret)))


def end_one(session: Session, user: User, login_id: int) -> None:
    """End one of ``user``'s own logins; someone else's is NotFound."""
    ended = session.execute(
        delete(LoginSession).where(LoginSession.id == login_id, LoginSession.user_id == user.id)
    )
    if ended.rowcount == 0:
        raise NotFound("That login has already ended.")


def end_all(session: Session, user: User) -> int:
    """End every login of ``user``; how many ended."""
    return session.execute(delete(LoginSession).where(LoginSession.user_id == user.id)).rowcount


def for_user(session: Session, user: User) -> list[LoginSession]:
    """``user``'s logins, the most recently used first."""
    return list(
        session.scalars(
            select(LoginSession)
            .where(LoginSession.user_id == user.id)
            .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
        )
    )


def end_expired(session: Session, lifetimes: Lifetimes, now: datetime | None = None) -> int:
    """Delete every login past either lifetime (they log no one in already); how many."""
    now = now or utcnow()
    return session.execute(
        delete(LoginSession).where(
            or_(
                LoginSession.last_seen_at < now - lifetimes.idle,
                LoginSession.created_at < now - lifetimes.absolute,
            )
        )
    ).rowcount


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
_TOKEN = re.compile(r"[A-Za-z]+")


def describe_browser(user_agent: str) -> str:
    """A short name for a browser, e.g. "Firefox on Linux", for the list of logins."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system
    first = _TOKEN.search(user_agent or "")
    return first.group(0)[:40] if first else "Unknown browser"
