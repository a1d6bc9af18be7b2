"""Joining the community a visitor came from, once they have an account and log in.

"Register to join" and "Log in to join" on a community's page carry the
community's address (``join``, its slug) through the register page, the
confirmation link and the login form. The first login with it, or the
confirmation of a new account's address, joins an open community; for one
joined by invite it only leads back to the community's page.

Joining is the communities feature's, above this one, so it registers the step
(:func:`register_joiner`). The slug is only ever looked up, never used as an
address: where a visitor lands is the community's own page, or ``safe_next``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from normhub.accounts.models import User
from normhub.ids import SLUG_RE


@dataclass(frozen=True)
class Arrival:
    """Where a member who asked to join lands, and what the page tells them."""

    path: str
    message: str
    joined: bool
    community_name: str


# (session, user, slug) -> the arrival, or None when the user may not see that community.
Joiner = Callable[[Session, User, str], Arrival | None]
_joiner: list[Joiner] = []


def register_joiner(joiner: Joiner) -> None:
    """One at a time: registering again replaces it, so every new app may register."""
    _joiner[:] = [joiner]


def join_argument(value: object) -> str | None:
    """``value`` if it has the shape of a community's address, else None."""
    if isinstance(value, str) and SLUG_RE.fullmatch(value):
        return value
    return None


def join_on_arrival(session: Session, user: User, slug: str | None) -> Arrival | None:
    """Join the community at ``slug`` if it is open and ``user`` may see it (never commits)."""
    slug = join_argument(slug)
    if slug is None or not _joiner:
        return None
    return _joiner[0](session, user, slug)
