"""A member's own data, as one JSON document they can download.

Accounts writes the account itself; every feature that keeps something about
a person adds its part with :func:`register_section` from its setup (the
communities they joined, the norms, responses and comments they wrote, the
exposure ledger and the checks about them, their digest settings, their API
tokens), so this module never imports the features above it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from normhub.accounts import logins
from normhub.accounts.models import User
from normhub.db import utc_iso, utcnow

# Bumped when a section changes shape, so a reader of an old download knows.
FORMAT_VERSION = 1

Section = Callable[[Session, User], object]
_sections: dict[str, Section] = {}


def register_section(name: str, build: Section) -> None:
    """Add ``build(session, user)``'s answer to every download, under ``name``."""
    _sections[name] = build


def account_section(session: Session, user: User) -> dict:
    return {
        "display_name": user.display_name,
        "email": user.email,
        "email_confirmed_at": utc_iso(user.email_verified_at),
        "pending_email": user.pending_email,
        "handle": user.handle,
        "about": user.bio,
        "site_admin": user.is_admin,
        "created_at": utc_iso(user.created_at),
        "logins": [
            {
                "started_at": utc_iso(login.created_at),
                "last_seen_at": utc_iso(login.last_seen_at),
                "browser": login.user_agent,
            }
            for login in logins.for_user(session, user)
        ],
    }


def export(session: Session, user: User) -> dict:
    """Everything the site keeps about ``user``, by section, in a fixed order."""
    document = {
        "format": FORMAT_VERSION,
        "exported_at": utc_iso(utcnow()),
        "account": account_section(session, user),
    }
    for name in sorted(_sections):
        document[name] = _sections[name](session, user)
    return document
