from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from normhub import events
from normhub.accounts import logins
from normhub.accounts.models import DISPLAY_NAME_MAX, EMAIL_MAX, User
from normhub.accounts.passwords import check_password
from normhub.db import utcnow
from normhub.errors import Conflict, ValidationFailed
from normhub.text import has_nul, require_plain_text, without_bidi_controls

# Argon2id with argon2-cffi's current defaults. A login with a hash made under
# other parameters stores a new hash (authenticate), so a change here reaches
# every account as its owner next logs in.
_hasher = PasswordHasher()


def normalize_email(email: str) -> str:
    require_plain_text(email, "Email", field="email")
    try:
        # Deliverability needs DNS, which tests and offline installs don't have.
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed(str(exc), field="email") from exc


def _check_display_name(name: str) -> str:
    require_plain_text(name, "Display name", field="display_name")
    name = " ".join(without_bidi_controls(name).split())
    if not name:
        raise ValidationFailed("Display name is required.", field="display_name")
    if len(name) > DISPLAY_NAME_MAX:
        raise ValidationFailed(
            f"Display name must be at most {DISPLAY_NAME_MAX} characters.", field="display_name"
        )
    return name


def find_user_by_handle(session: Session, handle: str) -> User | None:
    """The member whose public handle (their profile address) is ``handle``."""
    if has_nul(handle):
        return None
    return session.scalar(select(User).where(User.handle == handle, User.deleted_at.is_(None)))


def find_user_by_email(session: Session, email: str) -> User | None:
    if has_nul(email):
        return None  # no address holds one, and PostgreSQL refuses to compare it
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def check_new_account(email: str, display_name: str, password: str) -> tuple[str, str]:
    """The normalised (address, display name) of a new account, or ValidationFailed.

    Everything here looks at the input alone, never at who is registered, so a
    refusal says nothing about whether an address has an account.
    """
    email = normalize_email(email)
    if len(email) > EMAIL_MAX:
        raise ValidationFailed("Email address is too long.", field="email")
    check_password(password)
    return email, _check_display_name(display_name)


def new_user(
    email: str, display_name: str, password: str, *, is_admin: bool = False, verified: bool
) -> User:
    """A User for checked values (see :func:`check_new_account`), not yet added."""
    return User(
        email=email,
        display_name=display_name,
        password_hash=_hasher.hash(password),
        is_admin=is_admin,
        bio="",
        email_verified_at=utcnow() if verified else None,
    )


def register_user(
    session: Session,
    email: str,
    display_name: str,
    password: str,
    is_admin: bool = False,
    *,
    verified: bool = False,
) -> User:
    """Create an account, or Conflict if the address has one.

    For operators and scripts (``flask user create``, the demo), which may be
    told an address is taken and whose accounts count as confirmed
    (``verified=True``). The registration page goes through
    ``accounts.verification.sign_up``, which answers the same either way.
    """
    email, display_name = check_new_account(email, display_name, password)
    if find_user_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists.", field="email")
    user = new_user(email, display_name, password, is_admin=is_admin, verified=verified)
    session.add(user)
    session.flush()
    return user


def spend_a_password_hash(password: str) -> None:
    """Take the time hashing ``password`` takes, and keep nothing: for answers that
    must not be quicker when there is no account to write."""
    _hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user with these credentials, or None. Same answer for unknown email and bad password."""
    user = find_user_by_email(session, email)
    if user is None:
        spend_a_password_hash(password)  # the same time as a real check
        return None
    if not password_matches(user, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def update_profile(session: Session, user: User, display_name: str, bio: str) -> User:
    user.display_name = _check_display_name(display_name)
    require_plain_text(bio, "About you", field="bio", multiline=True)
    if len(bio) > 2000:
        raise ValidationFailed("Bio must be at most 2000 characters.", field="bio")
    user.bio = bio
    session.flush()
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one (see :func:`set_password`)."""
    if not password_matches(user, current):
        raise ValidationFailed("Current password is wrong.", field="current_password")
    set_password(session, user, new)


def set_password(session: Session, user: User, new: str) -> None:
    """The new password, once its owner is known to be asking (settings, or a reset link).

    Every login of ``user`` ends (the browser doing it logs in again, with a
    new login), and whatever else the old password opened closes with it
    (``events.Account.PasswordChanged``: the API revokes the user's tokens).
    """
    check_password(new, field="new_password")
    user.password_hash = _hasher.hash(new)
    session.flush()
    logins.end_all(session, user)
    events.publish(session, events.Account.PasswordChanged, user=user)
