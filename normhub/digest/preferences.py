"""Digest preferences per community, unsubscribe links, and the bounce notice.

No stored preference means the default (weekly). An unsubscribe link is a
signed token (``normhub.tokens``) naming the member and the communities whose
digest it turns off, so it works without logging in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from normhub import tokens
from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.db import utcnow
from normhub.digest.models import DEFAULT_FREQUENCY, FREQUENCIES, PERIOD_KINDS, DigestPreference
from normhub.errors import ValidationFailed
from normhub.mail import addresses
from normhub.mail.models import EmailAddressState
from normhub.planner import unindexed


@dataclass
class PreferenceRow:
    community: Community
    frequency: str


def list_preferences(session: Session, user: User) -> list[PreferenceRow]:
    """One row per community ``user`` is an active member of; no stored row means weekly."""
    rows = session.execute(
        select(Community, DigestPreference.frequency)
        .join(Membership, Membership.community_id == Community.id)
        .outerjoin(
            DigestPreference,
            and_(
                DigestPreference.community_id == Community.id,
                DigestPreference.user_id == user.id,
            ),
        )
        .where(Membership.user_id == user.id, Membership.left_at.is_(None))
        .order_by(func.lower(Community.name), Community.id)
    ).all()
    return [PreferenceRow(c, frequency or DEFAULT_FREQUENCY) for c, frequency in rows]


def set_preference(session: Session, user_id: int, community_id: int, frequency: str) -> None:
    if frequency not in FREQUENCIES:
        raise ValidationFailed("Choose daily, weekly or off.", field="frequency")
    row = session.scalar(
        select(DigestPreference).where(
            DigestPreference.user_id == user_id, DigestPreference.community_id == community_id
        )
    )
    if row is None:
        session.add(
            DigestPreference(user_id=user_id, community_id=community_id, frequency=frequency)
        )
    elif row.frequency != frequency:
        row.frequency = frequency
        row.updated_at = utcnow()
    session.flush()


def save_preferences(session: Session, user: User, choices: dict[int, str]) -> int:
    """Apply ``{community_id: frequency}`` where ``user`` is an active member; count changes."""
    current = {row.community.id: row.frequency for row in list_preferences(session, user)}
    changed = 0
    for community_id, frequency in choices.items():
        if community_id not in current:
            continue  # not (or no longer) a member: nothing to set
        if current[community_id] != frequency:
            set_preference(session, user.id, community_id, frequency)
            changed += 1
    return changed


def default_period(session: Session, user: User) -> str:
    """The period a member's preview shows: weekly, unless all their digests are daily."""
    frequencies = {row.frequency for row in list_preferences(session, user)}
    return "daily" if frequencies == {"daily"} else "weekly"


def matching_memberships(kind: str, community_ids: set[int] | None = None):
    """SELECT (user id, community id) of active memberships whose digest is ``kind``.

    Asked as whether a preference row says otherwise (or says ``kind``), not as a
    join on the frequency with its default filled in: PostgreSQL cannot estimate
    that, took it for rare, and joined all the members left before taking the
    next batch's (26 ms a batch at 100,000 members, 2 ms asked this way)."""
    preference = select(DigestPreference.id).where(
        DigestPreference.user_id == Membership.user_id,
        DigestPreference.community_id == Membership.community_id,
    )
    if kind == DEFAULT_FREQUENCY:
        matches = ~preference.where(DigestPreference.frequency != kind).exists()
    else:
        matches = preference.where(DigestPreference.frequency == kind).exists()
    query = select(Membership.user_id, Membership.community_id).where(
        Membership.left_at.is_(None), matches
    )
    if community_ids is not None:
        query = query.where(Membership.community_id.in_(community_ids))
    return query


def digest_memberships(community_ids: set[int] | None = None):
    """SELECT (user id, community id, frequency) of active memberships with a digest on."""
    frequency = func.coalesce(DigestPreference.frequency, DEFAULT_FREQUENCY)
    query = (
        select(Membership.user_id, Membership.community_id, frequency)
        .outerjoin(
            DigestPreference,
            and_(
                DigestPreference.user_id == Membership.user_id,
                DigestPreference.community_id == Membership.community_id,
            ),
        )
        .where(Membership.left_at.is_(None), frequency.in_(PERIOD_KINDS))
    )
    if community_ids is not None:
        # The caller's members drive the query: probing the (community, member) key for
        # every pair of them made a digest batch's query several times slower.
        query = query.where(unindexed(Membership.community_id).in_(community_ids))
    return query


def count_without_digest(session: Session, community_id: int, member_ids: Select) -> int:
    """How many of ``member_ids`` no digest of ``community_id`` reaches: one query.

    Those who turned it off for the community, and those whose address refuses
    mail (bounced or suppressed). Registered with exposure's coverage, which
    tells stewards that a nudge (delivered by the digest) will not reach them.
    """
    frequency = func.coalesce(DigestPreference.frequency, DEFAULT_FREQUENCY)
    return (
        session.scalar(
            select(func.count(User.id))
            .outerjoin(
                DigestPreference,
                and_(
                    DigestPreference.user_id == User.id,
                    DigestPreference.community_id == community_id,
                ),
            )
            .where(
                User.id.in_(member_ids),
                or_(frequency == "off", addresses.undeliverable(User.email)),
            )
        )
        or 0
    )


def bounce_for(session: Session, user: User) -> EmailAddressState | None:
    """The bounce on ``user``'s current address, if mail to it bounced."""
    return addresses.bounce_of(session, user.email)


def lift_bounce(session: Session, user: User) -> None:
    addresses.lift_bounce(session, user.email)


# ------------------------------------------------------- unsubscribe links


def make_unsubscribe_token(secret_key: str, user_id: int, community_ids: list[int]) -> str:
    """A signed token that turns digests off for ``user_id`` in ``community_ids``."""
    return tokens.sign(
        secret_key, tokens.UNSUBSCRIBE, {"u": user_id, "c": sorted(set(community_ids))}
    )


@dataclass(frozen=True)
class UnsubscribeRequest:
    user_id: int
    community_ids: tuple[int, ...]


def read_unsubscribe_token(
    secret_key: str, token: str, max_age: int | None = None
) -> UnsubscribeRequest:
    try:
        data = tokens.verify(secret_key, tokens.UNSUBSCRIBE, token, max_age)
    except tokens.TokenExpired as exc:
        raise ValidationFailed(
            "This unsubscribe link has expired. Change your digest settings after logging in."
        ) from exc
    except tokens.TokenInvalid as exc:
        raise ValidationFailed(
            "This unsubscribe link is not valid. It may have been cut short when copied."
        ) from exc
    try:
        user_id = int(data["u"])
        community_ids = tuple(int(c) for c in data["c"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed("This unsubscribe link is not valid.") from exc
    return UnsubscribeRequest(user_id, community_ids)


def unsubscribe_targets(session: Session, request: UnsubscribeRequest) -> list[Community]:
    return list(
        session.scalars(
            select(Community)
            .where(Community.id.in_(request.community_ids))
            .order_by(func.lower(Community.name))
        )
    )


def unsubscribe(session: Session, request: UnsubscribeRequest) -> list[Community]:
    """Turn the digest off for each community in the token; returns those communities."""
    if session.get(User, request.user_id) is None:
        raise ValidationFailed("This unsubscribe link belongs to an account that is gone.")
    communities = unsubscribe_targets(session, request)
    for community in communities:
        set_preference(session, request.user_id, community.id, "off")
    return communities
