"""API tokens (create, list, revoke, authenticate) and the API's lookups.

A token is shown to its owner once, when it is created; only its sha256 hash
is stored, so a leaked database does not leak working tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import and_, bindparam, case, or_, select
from sqlalchemy.orm import Session, aliased, contains_eager

from normhub.accounts.models import User
from normhub.accounts.services import normalize_email
from normhub.api.models import TOKEN_NAME_MAX, TOKEN_PREFIX_LENGTH, ApiToken
from normhub.communities.models import Community, Membership
from normhub.communities.services import can_view
from normhub.db import utcnow
from normhub.norms.models import Norm
from normhub.services import Forbidden, NotFound, ValidationFailed, parse_id

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


@cache
def _token_statement():
    # Built once: constructing and cache-keying a statement costs more CPU
    # than running it, and this one runs on every API request.
    return (
        select(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
        .options(contains_eager(ApiToken.user))
    )


def authenticate_token(session: Session, secret: str) -> ApiToken | None:
    """The usable token with this secret, with its user loaded; None otherwise."""
    if not secret or len(secret) > SECRET_MAX:
        return None
    return session.scalar(_token_statement(), {"token_hash": hash_secret(secret)})


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
        user_id = parse_id(ref)
        user = session.get(User, user_id) if user_id is not None else None
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


@cache
def _check_statement():
    subject = aliased(User, name="subject")
    return (
        select(Community, Membership, Norm, subject)
        .select_from(Community)
        .outerjoin(
            Membership,
            and_(
                Membership.community_id == Community.id,
                Membership.user_id == bindparam("caller_id"),
                Membership.left_at.is_(None),
            ),
        )
        .outerjoin(
            Norm,
            and_(
                Norm.community_id == Community.id,
                or_(Norm.slug == bindparam("norm_slug"), Norm.id == bindparam("norm_id")),
            ),
        )
        .outerjoin(subject, subject.id == bindparam("subject_id"))
        .where(Community.slug == bindparam("community_slug"))
        # A slug wins over an id that happens to be spelled the same (as in get_norm).
        .order_by(case((Norm.slug == bindparam("norm_slug"), 0), else_=1))
        .limit(1)
    )


def resolve_check(
    session: Session, caller: User, community_slug: str, norm_ref: str, member_ref: str
) -> tuple[Community, Norm, User]:
    """Community, norm and subject of an exposure check, if ``caller`` may make it.

    The policy is the shared one (``can_view``: members-only communities are
    404 to outsiders; checks are for active members and site admins), but
    asked in one query: this runs on every API check, and each round trip to
    the database counts there.
    """
    subject_id = parse_id(member_ref)
    row = session.execute(
        _check_statement(),
        {
            "community_slug": community_slug,
            "caller_id": caller.id,
            "norm_slug": norm_ref,
            # No norm has id -1: a non-numeric reference matches by slug only.
            "norm_id": parse_id(norm_ref) or -1,
            "subject_id": subject_id if subject_id is not None else -1,
        },
    ).first()
    community, membership, norm, subject = row if row is not None else (None,) * 4
    if community is None or not can_view(community, membership, caller):
        raise NotFound("No such community.")
    if membership is None and not caller.is_admin:
        raise Forbidden("Only active members of this community can check exposure to its norms.")
    if norm is None:
        raise NotFound("No such norm in this community.")
    if subject_id is None and not member_ref.isdigit():
        subject = find_subject(session, community, member_ref)
    elif subject is None:
        raise NotFound(f"No member with id {member_ref}.")
    return community, norm, subject
