"""API tokens (create, list, revoke, authenticate) and the API's lookups.

A token is shown to its owner once, when it is created; only its sha256 hash
is stored, so a leaked database does not leak working tokens. Every token
expires (30, 90 or 365 days after it is made), and all of a user's tokens are
revoked when their password changes or is reset (``revoke_all_tokens``, on
``events.Account.PasswordChanged``).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import NamedTuple

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased, contains_eager

from normhub import policy
from normhub.accounts.models import User
from normhub.accounts.services import normalize_email
from normhub.api.models import (
    TOKEN_DEFAULT_LIFETIME,
    TOKEN_LIFETIMES,
    TOKEN_NAME_MAX,
    TOKEN_PREFIX_LENGTH,
    ApiToken,
)
from normhub.autocommit import DirectConnection, DirectStatement
from normhub.communities.models import Community, Membership
from normhub.communities.services import can_view
from normhub.db import utc_iso, utcnow
from normhub.errors import Forbidden, NotFound, ValidationFailed
from normhub.exposure.facts import with_check_facts
from normhub.ids import parse_id
from normhub.norms.models import Norm
from normhub.norms.refs import CommunityRef, NormRef, PersonRef
from normhub.text import has_nul, require_plain_text, without_bidi_controls
from normhub.tokens import hash_secret

SECRET_PREFIX = "nh_"  # noqa: S105 (a label, not a secret)
# last_used_at is a hint for the owner, not an audit log: refreshing it at most
# once a minute saves a write on nearly every API request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Longer than any token we issue; anything bigger is rejected before hashing.
SECRET_MAX = 200


def create_token(
    session: Session, user: User, name: str, days: int = TOKEN_DEFAULT_LIFETIME
) -> tuple[ApiToken, str]:
    """A new token for ``user``, working for ``days``, and its secret (never available again)."""
    if days not in TOKEN_LIFETIMES:
        raise ValidationFailed("Choose how long the token works: 30, 90 or 365 days.", field="days")
    require_plain_text(name, "Token name", field="name")
    name = " ".join(without_bidi_controls(name or "").split())
    if not name:
        raise ValidationFailed("Give the token a name, e.g. where you will use it.", field="name")
    if len(name) > TOKEN_NAME_MAX:
        raise ValidationFailed(
            f"The name must be at most {TOKEN_NAME_MAX} characters.", field="name"
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_secret(secret),
        prefix=secret[:TOKEN_PREFIX_LENGTH],
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    return token, secret


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, usable ones first, newest first."""
    unusable = or_(ApiToken.revoked_at.is_not(None), ApiToken.expires_at <= utcnow())
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(unusable, ApiToken.id.desc())
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


def revoke_all_tokens(session: Session, user: User) -> int:
    """Revoke every token of ``user`` that still works; how many."""
    now = utcnow()
    return session.execute(
        update(ApiToken)
        .where(
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def revoke_tokens_on_password_change(session: Session, *, user: User) -> None:
    """Subscriber of ``events.Account.PasswordChanged``, in the change's transaction."""
    revoke_all_tokens(session, user)


def tokens_section(session: Session, user: User) -> list[dict]:
    """The user's tokens for their data download: what each was for, never its secret."""
    return [
        {
            "name": token.name,
            "created_at": utc_iso(token.created_at),
            "last_used_at": utc_iso(token.last_used_at),
            "expires_at": utc_iso(token.expires_at),
            "revoked_at": utc_iso(token.revoked_at),
        }
        for token in list_tokens(session, user)
    ]


def delete_tokens_with_account(session: Session, *, user: User, remove_writing: bool) -> None:
    """Subscriber of ``events.Account.Deleting``: the tokens go with the account."""
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


@cache
def _token_statement():
    # Built once: constructing and cache-keying a statement costs more CPU
    # than running it, and this one runs on every API request.
    return (
        select(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == bindparam("token_hash"),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > bindparam("now"),
        )
        .options(contains_eager(ApiToken.user))
    )


def token_hash_of(secret: str) -> str | None:
    """The hash a token with this secret is stored under; None if no token could have it."""
    if not secret or len(secret) > SECRET_MAX:
        return None
    return hash_secret(secret)


def authenticate_token(session: Session, secret: str) -> ApiToken | None:
    """The usable token with this secret, with its user loaded; None otherwise."""
    token_hash = token_hash_of(secret)
    return token_by_hash(session, token_hash) if token_hash is not None else None


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    """The usable token stored under ``token_hash`` (see ``token_hash_of``), with its user."""
    return session.scalar(_token_statement(), {"token_hash": token_hash, "now": utcnow()})


class TokenUse(NamedTuple):
    """What refreshing a token's last-used time needs (an ApiToken has both too)."""

    id: int
    last_used_at: datetime | None


def needs_touch(token: TokenUse | ApiToken, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION


def touch_token(
    db: Session | DirectConnection, token: TokenUse | ApiToken, now: datetime | None = None
) -> bool:
    """Record that the token was used; True when that needed a write.

    A plain UPDATE by id (no unit of work): it can run on every API request.
    """
    now = now or utcnow()
    if not needs_touch(token, now):
        return False
    _TOUCH.execute(db, {"token_id": token.id, "now": now})
    return True


_TOUCH = DirectStatement(
    update(ApiToken)
    .where(ApiToken.id == bindparam("token_id"))
    .values(last_used_at=bindparam("now"))
)


# -- The parties of an exposure check ---------------------------------------
#
# The API check is the hottest path in NormHub, so it resolves its parties as
# plain values from one query rather than as ORM objects (the shared ones in
# normhub.norms.refs, and the two below that only this check needs). The exposure
# services accept these wherever they take a Norm or a User: they read the
# same attribute names.


class CallerRef(NamedTuple):
    id: int
    is_admin: bool


class ActiveMembershipRef(NamedTuple):
    id: int
    role: str  # the policy reads it (members-only communities ask it who may look)

    @property
    def is_active(self) -> bool:
        return True  # the query only joins memberships with no ``left_at``


_MEMBER_BY_EMAIL = DirectStatement(
    select(User.id, User.display_name)
    .join(Membership, Membership.user_id == User.id)
    .where(
        User.email == bindparam("email"),
        User.deleted_at.is_(None),
        Membership.community_id == bindparam("community_id"),
    )
)


def find_subject(db: Session | DirectConnection, community: CommunityRef, ref: str) -> PersonRef:
    """The person an exposure check is about, named by email address.

    Only people who are or were members of ``community`` are looked up, so
    the API cannot be used to find out whether an address has an account.
    (A numeric id is resolved with the other parties, under the same rule.)
    """
    ref = ref.strip()
    if "@" not in ref:
        raise NotFound("A member is named by their numeric id or their email address.")
    try:
        email = normalize_email(ref)
    except ValidationFailed:
        email = ref.lower()
    row = _MEMBER_BY_EMAIL.first(db, {"email": email, "community_id": community.id})
    if row is None:
        raise NotFound("No member of this community has that email address.")
    return PersonRef(row.id, row.display_name)


class CheckParties(NamedTuple):
    caller: CallerRef
    token: TokenUse | None
    community: CommunityRef
    norm: NormRef
    subject: PersonRef
    # Rows for check_exposure(fact_rows=...); None when the subject was
    # named by email and is looked up separately.
    fact_rows: list | None


def _parties_statement(by_token: bool):
    """Caller (by token or by id), community, caller's active membership, norm,
    subject (by id) and the check's facts about them, in one round trip.

    One row per answered assumption (see ``with_check_facts``), the parties
    repeated on each."""
    caller = aliased(User, name="caller")
    caller_membership = aliased(Membership, name="caller_membership")
    subject = aliased(User, name="subject")
    subject_membership = aliased(Membership, name="subject_membership")
    by_slug = aliased(Norm, name="by_slug")
    by_id = aliased(Norm, name="by_id")
    columns = [
        caller.id.label("caller_id"),
        caller.is_admin.label("caller_is_admin"),
        Community.id.label("community_id"),
        Community.slug.label("community_slug"),
        Community.name.label("community_name"),
        Community.visibility,
        caller_membership.id.label("caller_membership_id"),
        caller_membership.role.label("caller_membership_role"),
        Norm.id.label("norm_id"),
        Norm.slug.label("norm_slug"),
        Norm.title,
        Norm.status,
        Norm.current_version_number,
        Norm.last_material_version_number,
        Norm.author_id,
        Norm.status_changed_at,
        Norm.in_force_version_number,
        subject.id.label("subject_id"),
        subject.display_name.label("subject_name"),
    ]
    if by_token:
        statement = (
            select(*columns, ApiToken.id.label("token_id"), ApiToken.last_used_at)
            .select_from(ApiToken)
            .join(caller, caller.id == ApiToken.user_id)
            .where(
                ApiToken.token_hash == bindparam("token_hash"),
                ApiToken.revoked_at.is_(None),
                ApiToken.expires_at > bindparam("now"),
            )
        )
    else:
        statement = select(*columns).select_from(caller).where(caller.id == bindparam("caller_id"))
    # A slug wins over an id that happens to be spelled the same (as in
    # get_norm). Two scalar lookups rather than one OR: an OR of the two keeps
    # PostgreSQL from using either index and it scans every norm instead.
    found_norm_id = func.coalesce(
        select(by_slug.id)
        .where(by_slug.community_id == Community.id, by_slug.slug == bindparam("norm_slug"))
        .scalar_subquery(),
        select(by_id.id)
        .where(by_id.community_id == Community.id, by_id.id == bindparam("norm_id"))
        .scalar_subquery(),
    )
    statement = (
        statement.outerjoin(Community, Community.slug == bindparam("community_slug"))
        .outerjoin(
            caller_membership,
            and_(
                caller_membership.community_id == Community.id,
                caller_membership.user_id == caller.id,
                caller_membership.left_at.is_(None),
            ),
        )
        .outerjoin(Norm, Norm.id == found_norm_id)
        .outerjoin(
            subject,
            and_(
                subject.id == bindparam("subject_id"),
                subject.deleted_at.is_(None),
                # Only people who are or were members here: any other id is unknown,
                # so the API cannot be used to learn the names of other accounts.
                select(subject_membership.id)
                .where(
                    subject_membership.user_id == subject.id,
                    subject_membership.community_id == Community.id,
                )
                .correlate(subject, Community)
                .exists(),
            ),
        )
    )
    return with_check_facts(statement, subject.id, Norm.id, Community.id)


_PARTIES_BY_TOKEN = DirectStatement(_parties_statement(by_token=True))
_PARTIES_BY_CALLER = DirectStatement(_parties_statement(by_token=False))


def resolve_check(
    db: Session | DirectConnection,
    community_slug: str,
    norm_ref: str,
    member_ref: str,
    *,
    token_hash: str | None = None,
    caller: User | None = None,
) -> CheckParties | None:
    """Who checks whom about which norm, if the caller may make the check.

    The caller is named by a bearer token's hash or, for a browser session,
    is the logged-in ``caller``. None means the token is not usable (the view
    answers 401). The policy is the shared one (``can_view``: members-only
    communities are 404 to outsiders; checks are for active members and site
    admins), asked in the same query that fetches the check's facts, because
    each round trip counts here.
    """
    if any(has_nul(ref) for ref in (community_slug, norm_ref, member_ref)):
        raise NotFound("No such community.")  # nothing is named with a NUL
    subject_id = parse_id(member_ref)
    params = {
        "community_slug": community_slug,
        "norm_slug": norm_ref,
        # No norm has id -1: a non-numeric reference matches by slug only.
        "norm_id": parse_id(norm_ref) or -1,
        "subject_id": subject_id if subject_id is not None else -1,
    }
    if token_hash is not None:
        params["token_hash"] = token_hash
        params["now"] = utcnow()
    else:
        params["caller_id"] = caller.id
    parties = _PARTIES_BY_TOKEN if token_hash is not None else _PARTIES_BY_CALLER
    rows = parties.all(db, params)
    if not rows:
        return None
    row = rows[0]
    checker = CallerRef(row.caller_id, row.caller_is_admin)
    membership = (
        ActiveMembershipRef(row.caller_membership_id, row.caller_membership_role)
        if row.caller_membership_id
        else None
    )
    community = None
    if row.community_id is not None:
        community = CommunityRef(
            row.community_id, row.community_slug, row.community_name, row.visibility
        )
    if community is None or not can_view(community, membership, checker):
        raise NotFound("No such community.")
    if not policy.allows("exposure.check", membership, checker):
        raise Forbidden("Only active members of this community can check exposure to its norms.")
    if row.norm_id is None:
        raise NotFound("No such norm in this community.")
    norm = NormRef(
        row.norm_id,
        community.id,
        row.norm_slug,
        row.title,
        row.status,
        row.current_version_number,
        row.last_material_version_number,
        author_id=row.author_id,
        status_changed_at=row.status_changed_at,
        in_force_version_number=row.in_force_version_number,
    )
    fact_rows = None
    if subject_id is None and not member_ref.isdigit():
        subject = find_subject(db, community, member_ref)
    elif row.subject_id is None:
        raise NotFound(f"No member of this community has id {member_ref}.")
    else:
        subject = PersonRef(row.subject_id, row.subject_name)
        fact_rows = rows
    token = TokenUse(row.token_id, row.last_used_at) if token_hash is not None else None
    return CheckParties(checker, token, community, norm, subject, fact_rows)
