"""API tokens (create, list, revoke, authenticate) and the API's lookups.

A token is shown to its owner once, when it is created; only its sha256 hash
is stored, so a leaked database does not leak working tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, case, select
from sqlalchemy.orm import Session, aliased, contains_eager

from normhub.accounts.models import User
from normhub.accounts.services import normalize_email
from normhub.api.models import TOKEN_NAME_MAX, TOKEN_PREFIX_LENGTH, ApiToken
from normhub.communities.models import Community, Membership
from normhub.communities.services import can_view
from normhub.db import utcnow
from normhub.norms.models import Norm
from normhub.services import Forbidden, NotFound, ValidationFailed

SECRET_PREFIX = "nh_"  # noqa: S105 (a label, not a secret)
# last_used_at is a hint for the owner, not an audit log: refreshing it at most
# once a minute saves a write on nearly every API request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Longer than any token we issue; anything bigger is rejected before hashing.
SECRET_MAX = 200


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user`` and its secret, which is never available again."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed("Give the token a name, e.g. where you will use it.", field="name")
    if len(name) > TOKEN_NAME_MAX:
        raise ValidationFailed(
            f"The name must be at most {TOKEN_NAME_MAX} characters.", field="name"
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_secret(secret),
        prefix=secret[:TOKEN_PREFIX_LENGTH],
    )
    session.add(token)
    session.flush()
    return token, secret


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, usable ones first, newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
    )


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s own tokens (someone else's is NotFound)."""
    token = session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )
    if token is None:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    return token


def authenticate_token(session: Session, secret: str) -> ApiToken | None:
    """The usable token with this secret, with its user loaded; None otherwise."""
    if not secret or len(secret) > SECRET_MAX:
        return None
    return session.scalar(
        select(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_secret(secret), ApiToken.revoked_at.is_(None))
        .options(contains_eager(ApiToken.user))
    )


def needs_touch(token: ApiToken, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION


def touch_token(session: Session, token: ApiToken, now: datetime | None = None) -> bool:
    """Record that the token was used; True when that needed a write."""
    now = now or utcnow()
    if not needs_touch(token, now):
        return False
    token.last_used_at = now
    session.flush()
    return True


def find_subject(session: Session, community: Community, ref: str) -> User:
    """The person an exposure check is about: a user id, or an email address.

    An id names any account (member pages already show ids). An email is only
    looked up among people who are or were members of ``community``, so the
    API cannot be used to find out whether an address has an account.
    """
    ref = ref.strip()
    if ref.isdigit():
        user = session.get(User, int(ref))
        if user is None:
            raise NotFound(f"No member with id {ref}.")
        return user
    if "@" in ref:
        try:
            email = normalize_email(ref)
        except ValidationFailed:
            email = ref.lower()
        user = session.scalar(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                User.email == email,
                Membership.community_id == community.id,
            )
        )
        if user is None:
            raise NotFound("No member of this community has that email address.")
        return user
    raise NotFound("A member is named by their numeric id or their email address.")


def resolve_check(
    session: Session, caller: User, community_slug: str, norm_ref: str, member_ref: str
) -> tuple[Community, Norm, User]:
    """Community, norm and subject of an exposure check, if ``caller`` may make it.

    The policy is the shared one (``can_view``: members-only communities are
    404 to outsiders; checks are for active members and site admins), but
    asked in one query: this runs on every API check, and each round trip to
    the database counts there.
    """
    subject_id = int(member_ref) if member_ref.isdigit() else None
    subject_alias = aliased(User)
    norm_match = Norm.slug == norm_ref
    if norm_ref.isdigit():
        norm_match = norm_match | (Norm.id == int(norm_ref))
    row = session.execute(
        select(Community, Membership, Norm, subject_alias)
        .select_from(Community)
        .outerjoin(
            Membership,
            and_(
                Membership.community_id == Community.id,
                Membership.user_id == caller.id,
                Membership.left_at.is_(None),
            ),
        )
        .outerjoin(Norm, and_(Norm.community_id == Community.id, norm_match))
        .outerjoin(subject_alias, subject_alias.id == (subject_id or 0))
        .where(Community.slug == community_slug)
        # A slug wins over an id that happens to be spelled the same (as in get_norm).
        .order_by(case((Norm.slug == norm_ref, 0), else_=1))
        .limit(1)
    ).first()
    community, membership, norm, subject = row if row is not None else (None,) * 4
    if community is None or not can_view(community, membership, caller):
        raise NotFound("No such community.")
    if membership is None and not caller.is_admin:
        raise Forbidden("Only active members of this community can check exposure to its norms.")
    if norm is None:
        raise NotFound("No such norm in this community.")
    if subject_id is None:
        subject = find_subject(session, community, member_ref)
    elif subject is None:
        raise NotFound(f"No member with id {member_ref}.")
    return community, norm, subject
