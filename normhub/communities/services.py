"""Communities, memberships, and the access policy every feature uses (invites: ``invites``).

Policy in one place: a members-only community does not exist for non-members
(``NotFound``, never ``Forbidden``, so even its name does not leak).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event, false, func, or_, select
from sqlalchemy.orm import Session

from normhub import events, policy
from normhub.accounts.models import User
from normhub.communities.models import (
    JOIN_POLICIES,
    ROLES,
    VISIBILITIES,
    Community,
    Membership,
)
from normhub.communities.reread import check_reread_months
from normhub.db import utcnow
from normhub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from normhub.ids import SLUG_RE
from normhub.markdown import mentioned_handles
from normhub.text import has_nul, require_plain_text, without_bidi_controls
from normhub.urls import site_path


def slugify(text: str, max_length: int = 60) -> str:
    # "Don't" should read "dont", not "don-t".
    text = re.sub(r"['\u2019]", "", text.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:max_length].rstrip("-") or "item"


DESCRIPTION_MAX = 5000
NAME_MAX = 120
# Far above any real community, and far below what an integer column holds.
MIN_RESPONSES_MAX = 100_000
OPEN_CAP_MAX = 1000


def _clean_name(name: str) -> str:
    require_plain_text(name, "Name", field="name")
    name = " ".join(without_bidi_controls(name).split())
    if not name:
        raise ValidationFailed("Name is required.", field="name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(f"Name must be at most {NAME_MAX} characters.", field="name")
    return name


def _check_description(description: str) -> None:
    require_plain_text(description, "Description", field="description", multiline=True)
    if len(description) > DESCRIPTION_MAX:
        raise ValidationFailed(
            f"Description must be at most {DESCRIPTION_MAX} characters.", field="description"
        )


def create_community(
    session: Session,
    creator: User,
    name: str,
    slug: str | None = None,
    description: str = "",
    visibility: str = "public",
    join_policy: str = "open",
) -> Community:
    name = _clean_name(name)
    _check_description(description)
    slug = slug or slugify(name)
    if not SLUG_RE.fullmatch(slug):
        raise ValidationFailed(
            "Address must be lowercase letters, digits and dashes.", field="slug"
        )
    if visibility not in VISIBILITIES:
        raise ValidationFailed("Unknown visibility.", field="visibility")
    if join_policy not in JOIN_POLICIES:
        raise ValidationFailed("Unknown join policy.", field="join_policy")
    if session.scalar(select(Community.id).where(Community.slug == slug)) is not None:
        raise Conflict("A community with this address already exists.", field="slug")
    community = Community(
        name=name,
        slug=slug,
        description=description,
        visibility=visibility,
        join_policy=join_policy,
    )
    session.add(community)
    session.flush()
    session.add(Membership(community_id=community.id, user_id=creator.id, role="admin"))
    session.flush()
    return community


# Every policy check asks for the viewer's membership; one page asks it several
# times (visibility, edit rights, responding, each panel). The answer is kept on
# the session until the transaction ends or a Membership row is flushed.
_MEMBERSHIP_CACHE = "normhub.memberships"


def get_membership(session: Session, community: Community, user: User | None) -> Membership | None:
    """The user's membership row (active or left), or None."""
    if user is None:
        return None
    cache = session.info.setdefault(_MEMBERSHIP_CACHE, {})
    key = (community.id, user.id)
    if key not in cache:
        cache[key] = session.scalar(
            select(Membership).where(
                Membership.community_id == community.id, Membership.user_id == user.id
            )
        )
    return cache[key]


# session.info: set while ``memberships_kept_through_commit`` runs, until a Membership
# row is flushed.
_KEEPING = "normhub.memberships.keeping"


def _forget_memberships(session: Session, *_args) -> None:
    session.info.pop(_MEMBERSHIP_CACHE, None)


@event.listens_for(Session, "after_flush")
def _forget_memberships_on_change(session: Session, _flush_context) -> None:
    if any(
        isinstance(item, Membership) for item in (*session.new, *session.dirty, *session.deleted)
    ):
        _forget_memberships(session)
        session.info.pop(_KEEPING, None)


@contextmanager
def memberships_kept_through_commit(session: Session):
    """Keep the memberships read so far past a commit made inside, unless it wrote one.

    For a page that commits a write of its own (the norm page records that it was
    opened) and goes on showing: what it read of the viewer's membership before holds
    for the rest of the request, and asking again cost a query."""
    kept = session.info.get(_MEMBERSHIP_CACHE)
    session.info[_KEEPING] = True
    try:
        yield
        if kept is not None and session.info.get(_KEEPING):
            session.info[_MEMBERSHIP_CACHE] = kept
    finally:
        session.info.pop(_KEEPING, None)


event.listen(Session, "after_commit", _forget_memberships)
event.listen(Session, "after_soft_rollback", _forget_memberships)


def active_membership(
    session: Session, community: Community, user: User | None
) -> Membership | None:
    membership = get_membership(session, community, user)
    return membership if membership is not None and membership.is_active else None


def member_by_id(session: Session, community: Community, user_id: int | None) -> User | None:
    """The person with ``user_id`` if they are or were a member of ``community``.

    Pages that take a person's id from a form or a link ask this, never for
    any account: an id from outside the community names no one, so ids cannot
    be walked to learn other accounts' names. Deleted accounts are no one.
    """
    if user_id is None:
        return None
    return session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            User.id == user_id,
            User.deleted_at.is_(None),
            Membership.community_id == community.id,
        )
        .limit(1)
    )


def mention_names(
    session: Session, community: Community, texts: Iterable[str]
) -> dict[str, tuple[str, str]]:
    """For the @handles in ``texts``: (name, member page) of those who are members of
    ``community`` now. Other handles stay as typed, so a mention reveals no one else."""
    handles = set()
    for text in texts:
        handles |= mentioned_handles(text)
    return members_mentioned(session, community, handles)


def members_mentioned(
    session: Session, community: Community, handles: set[str]
) -> dict[str, tuple[str, str]]:
    """:func:`mention_names` for ``handles`` already found (in cooked HTML, say)."""
    if not handles:
        return {}
    rows = session.execute(
        select(User.handle, User.display_name)
        .join(Membership, Membership.user_id == User.id)
        .where(
            User.handle.in_(sorted(handles)),
            Membership.community_id == community.id,
            Membership.left_at.is_(None),
        )
    )
    return {handle: (name, site_path("forum.member", handle=handle)) for handle, name in rows.all()}


def can_view(community: Community, membership: Membership | None, user: User | None) -> bool:
    return community.is_public or policy.allows("community.see-members-only", membership, user)


def is_steward(membership: Membership | None, user: User | None = None) -> bool:
    return policy.at_least(policy.STEWARD, membership, user)


def get_visible_community(session: Session, slug: str, user: User | None) -> Community:
    """The community at ``slug`` if ``user`` may see it; otherwise NotFound."""
    if has_nul(slug):
        raise NotFound("No such community.")
    community = session.scalar(select(Community).where(Community.slug == slug))
    if community is None or not can_view(
        community, active_membership(session, community, user), user
    ):
        raise NotFound("No such community.")
    return community


def visible_communities_clause(user: User | None):
    """A WHERE clause on Community limiting to what ``user`` may see (for queries)."""
    if user is None:
        return Community.visibility == "public"
    return visible_to_clause(user.is_admin, user.id)


def visible_to_clause(is_admin: bool, user_id):
    """``visible_communities_clause`` for a signed-in user, given as whether they are a
    site admin and their id: a value, or a bound parameter in a statement built once."""
    if is_admin:
        return Community.id.is_not(None)
    member_of = select(Membership.community_id).where(
        Membership.user_id == user_id, Membership.left_at.is_(None)
    )
    return or_(Community.visibility == "public", Community.id.in_(member_of))


def communities_allowing_clause(action: str, user: User | None):
    """A WHERE clause on Community: those where ``user`` may do ``action`` (policy's table).

    The query form of :func:`normhub.policy.allows` for lists across many
    communities: active memberships holding a role the rule allows, or every
    community for a site admin when the rule lets site admins through.
    """
    if user is None:
        return false()
    if user.is_admin and policy.RULES[action].site_admins:
        return Community.id.is_not(None)
    allowed = select(Membership.community_id).where(
        Membership.user_id == user.id,
        Membership.left_at.is_(None),
        Membership.role.in_(policy.roles_allowed(action)),
    )
    return Community.id.in_(allowed)


def list_visible_communities(session: Session, user: User | None) -> list[Community]:
    return list(
        session.scalars(
            select(Community).where(visible_communities_clause(user)).order_by(Community.name)
        )
    )


def active_member_ids(session: Session, community: Community) -> list[int]:
    return list(
        session.scalars(
            select(Membership.user_id).where(
                Membership.community_id == community.id, Membership.left_at.is_(None)
            )
        )
    )


def lock_community(session: Session, community: Community) -> None:
    """Hold the community's row until the transaction ends, and forget its memberships.

    Every change that an invariant about the whole membership depends on (at
    least one admin; one membership per person) takes this lock first, so two
    of them at once run one after the other and the second sees what the first
    did. On PostgreSQL that is ``SELECT … FOR UPDATE``; SQLite's write
    transactions already begin ``IMMEDIATE`` and so run one at a time.
    """
    session.execute(select(Community.id).where(Community.id == community.id).with_for_update())
    _forget_memberships(session)
    for item in list(session.identity_map.values()):
        if isinstance(item, Membership) and item.community_id == community.id:
            session.expire(item)


def add_member(session: Session, community: Community, user: User) -> Membership | None:
    """Make ``user`` an active member; None if they already were (joining twice is one join).

    The join itself: ``join_open`` and ``invites.join_by_invite`` check the way in first."""
    lock_community(session, community)
    membership = get_membership(session, community, user)
    if membership is not None:
        if membership.is_active:
            return None
        membership.left_at = None
        membership.role = "member"
        membership.joined_at = utcnow()
    else:
        membership = Membership(community_id=community.id, user_id=user.id, role="member")
        session.add(membership)
    session.flush()
    return membership


def join_open(session: Session, community: Community, user: User) -> Membership:
    if community.join_policy != "open":
        raise Forbidden("This community can only be joined with an invite link.")
    membership = add_member(session, community, user)
    if membership is None:
        return active_membership(session, community, user)
    events.publish(session, events.Member.Joined, membership=membership)
    return membership


ONLY_ADMIN_LEAVING = "You are the only admin: make another member an admin before leaving."


def leave(
    session: Session, community: Community, user: User, *, only_admin: str = ONLY_ADMIN_LEAVING
) -> None:
    """End ``user``'s membership; Conflict (saying ``only_admin``) if the others would
    be left with no admin."""
    lock_community(session, community)
    membership = active_membership(session, community, user)
    if membership is None:
        raise NotFound("You are not a member of this community.")
    if (
        membership.role == "admin"
        and count_active_admins(session, community) == 1
        and len(active_member_ids(session, community)) > 1
    ):
        raise Conflict(only_admin)
    membership.left_at = utcnow()
    session.flush()
    events.publish(session, events.Member.Left, membership=membership)


def set_role(
    session: Session, community: Community, actor: User, member: User, role: str
) -> Membership:
    if role not in ROLES:
        raise ValidationFailed("Unknown role.", field="role")
    lock_community(session, community)
    actor_membership = active_membership(session, community, actor)
    if not (actor.is_admin or (actor_membership and actor_membership.has_role("admin"))):
        raise Forbidden("Only community admins can change roles.")
    membership = active_membership(session, community, member)
    if membership is None:
        raise NotFound("That person is not a member of this community.")
    if (
        membership.role == "admin"
        and role != "admin"
        and count_active_admins(session, community) == 1
    ):
        raise Conflict("A community needs at least one admin: appoint another one first.")
    membership.role = role
    session.flush()
    return membership


def count_active_admins(session: Session, community: Community) -> int:
    return (
        session.scalar(
            select(func.count(Membership.id)).where(
                Membership.community_id == community.id,
                Membership.left_at.is_(None),
                Membership.role == "admin",
            )
        )
        or 0
    )


def can_manage(session: Session, community: Community, user: User | None) -> bool:
    """Stewards and admins (and site admins) edit settings and invites."""
    membership = active_membership(session, community, user)
    return policy.allows("community.manage", membership, user)


def can_manage_roles(session: Session, community: Community, user: User | None) -> bool:
    membership = active_membership(session, community, user)
    return policy.allows("community.manage-roles", membership, user)


@dataclass(frozen=True)
class CommunitySettings:
    name: str
    description: str
    visibility: str
    join_policy: str
    coverage_threshold_pct: int
    coverage_min_responses: int
    max_open_norms: int | None
    max_open_per_author: int | None
    hide_tallies_until_answered: bool = True
    reread_months: int | None = None  # ask for a re-read every so many months (None: never)


def update_settings(
    session: Session, community: Community, actor: User, settings: CommunitySettings
) -> Community:
    if not can_manage(session, community, actor):
        raise Forbidden("Only stewards and admins can change community settings.")
    name = _clean_name(settings.name)
    _check_description(settings.description)
    if settings.visibility not in VISIBILITIES:
        raise ValidationFailed("Unknown visibility.", field="visibility")
    if settings.join_policy not in JOIN_POLICIES:
        raise ValidationFailed("Unknown join policy.", field="join_policy")
    if not 0 <= settings.coverage_threshold_pct <= 100:
        raise ValidationFailed(
            "The coverage threshold is a percentage from 0 to 100.", field="coverage_threshold_pct"
        )
    if not 0 <= settings.coverage_min_responses <= MIN_RESPONSES_MAX:
        raise ValidationFailed(
            f"The minimum number of responses is a number from 0 to {MIN_RESPONSES_MAX:,}.",
            field="coverage_min_responses",
        )
    for field_name in ("max_open_norms", "max_open_per_author"):
        value = getattr(settings, field_name)
        if value is not None and not 1 <= value <= OPEN_CAP_MAX:
            raise ValidationFailed(
                f"A cap is a number from 1 to {OPEN_CAP_MAX:,}; leave it blank for no cap.",
                field_name,
            )
    community.name = name
    community.description = settings.description.strip()
    community.visibility = settings.visibility
    community.join_policy = settings.join_policy
    community.coverage_threshold_pct = settings.coverage_threshold_pct
    community.coverage_min_responses = settings.coverage_min_responses
    community.max_open_norms = settings.max_open_norms
    community.max_open_per_author = settings.max_open_per_author
    community.hide_tallies_until_answered = bool(settings.hide_tallies_until_answered)
    community.reread_months = check_reread_months(settings.reread_months)
    session.flush()
    return community


def list_members(session: Session, community: Community) -> list[Membership]:
    """Active members, admins first, then stewards, then by name."""
    from sqlalchemy import case
    from sqlalchemy.orm import selectinload

    rank = case({"admin": 0, "steward": 1}, value=Membership.role, else_=2)
    return list(
        session.scalars(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(Membership.community_id == community.id, Membership.left_at.is_(None))
            .order_by(rank, func.lower(User.display_name), User.id)
            .options(selectinload(Membership.user))
        )
    )
