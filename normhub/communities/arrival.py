"""Joining a community a visitor asked to join before they had an account or had logged in
(see ``accounts.arrival``, which carries the request through registering and logging in)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from normhub.accounts.arrival import Arrival, join_argument
from normhub.accounts.models import User
from normhub.auth import current_user_or_none
from normhub.communities.models import Community
from normhub.communities.services import active_membership, get_visible_community, join_open
from normhub.db import get_session
from normhub.errors import NotFound
from normhub.urls import site_path


def join_after_arrival(session: Session, user: User, slug: str) -> Arrival | None:
    """Join the open community at ``slug``; one joined by invite is only led back to.

    None when ``user`` may not see it (a members-only community they are not in
    is no one's business here either). Never commits.
    """
    try:
        community = get_visible_community(session, slug, user)
    except NotFound:
        return None
    path = site_path("forum.community", slug=community.slug)
    if active_membership(session, community, user) is not None:
        return Arrival(path, f"You are a member of {community.name}.", False, community.name)
    if community.join_policy != "open":
        message = f"{community.name} is joined by invite link: ask one of its stewards for one."
        return Arrival(path, message, False, community.name)
    join_open(session, community, user)
    return Arrival(path, f"Welcome to {community.name}.", True, community.name)


def community_to_join(slug: object) -> Community | None:
    """For the login and register pages: the community a ``join`` names, if the viewer may
    see it, so the page can say what logging in will also do."""
    slug = join_argument(slug)
    if slug is None:
        return None
    try:
        return get_visible_community(get_session(), slug, current_user_or_none())
    except NotFound:
        return None
