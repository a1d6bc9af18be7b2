"""Confirming that an account's email address is its owner's, and the mail that goes with it.

A confirmation link carries a signed token (``tokens.VERIFY_EMAIL``: 48 hours)
naming the account and the one address it confirms. Following it confirms
that address only while the account still uses it, or still asks to move to
it: a link for an old address confirms nothing once the account moved on.

Until its address is confirmed a member reads, responds and comments as
anyone else, but is sent no digest (and so no nudge), and no ``delivered``
exposure is recorded for them: the digest's selection of members and the
exposure ledger both ask ``User.email_verified_at``.

Changing the address keeps mail going to the old one, which is told of the
change, until the new one is confirmed (``User.pending_email``).

Registration answers the same whether or not the address has an account (see
:func:`sign_up`): a taken address is sent an explanation instead of a link.

Registering from a community's "Register to join" puts the community's address
in the link (``j``, see ``accounts.arrival``): the first confirmation joins it,
and the explanation sent to a taken address links to a login that joins it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from normhub import tokens
from normhub.accounts.arrival import join_argument
from normhub.accounts.models import User
from normhub.accounts.services import (
    check_new_account,
    find_user_by_email,
    new_user,
    normalize_email,
    password_matches,
    spend_a_password_hash,
)
from normhub.db import utcnow
from normhub.errors import DomainError, ValidationFailed
from normhub.mail.queue import send_email
from normhub.urls import absolute_url

# At most one link a member asks for in this time, counted per account across the resend,
# change-of-address and expired-link pages (the rate limits count per process or address).
RESEND_WAIT = timedelta(minutes=5)
LINK_HOURS = tokens.VERIFY_EMAIL.max_age // 3600
# An expired link still gets its owner a new one (without logging in) for this long.
EXPIRED_LINK_RESEND_AGE = 60 * tokens.DAY
# The page where a member who forgot their password starts over.
RESET_PAGE_ENDPOINT = "password_reset.forgot"

EXPIRED = (
    f"This confirmation link has expired: a link works for {LINK_HOURS} hours. "
    "You can ask for a new one."
)
NOT_VALID = (
    "This confirmation link is not valid. It may have been cut short when it was copied: "
    "try opening it straight from the email, or ask for a new one."
)
NO_LONGER_ASKED = (
    "This link is for an address your account no longer uses or asks to use, "
    "so it confirms nothing. If you want that address, ask for a new link from your settings."
)
TAKEN_SINCE = (
    "That address has since been used for another account, so it cannot be yours too. "
    "Your account keeps its present address."
)


class LinkRefused(DomainError):
    """A confirmation link that confirms nothing; ``expired`` says whether age was the reason."""

    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


class TooSoon(ValidationFailed):
    """A link went out a moment ago: wait before asking for another."""

    status = 429


@dataclass(frozen=True)
class Confirmation:
    user: User
    address: str
    # True: the account moved to ``address`` just now.
    changed: bool = False
    # True: the address was confirmed already (the link was followed twice).
    already: bool = False
    # The community the account registered from, to join on its first confirmation.
    join: str | None = None


# --- the emails -------------------------------------------------------------------------------


def confirmation_token(user: User, address: str, join: str | None = None) -> str:
    claims = {"u": user.id, "e": address}
    if join_argument(join):
        claims["j"] = join
    return tokens.sign(current_app.config["SECRET_KEY"], tokens.VERIFY_EMAIL, claims)


def send_verification_email(
    session: Session, user: User, address: str, join: str | None = None
) -> None:
    """Queue a link that confirms ``address`` for ``user`` (and joins ``join`` the first
    time), and note when it went."""
    url = absolute_url("accounts.confirm_email", token=confirmation_token(user, address, join))
    context = {
        "display_name": user.display_name,
        "address": address,
        "url": url,
        "hours": LINK_HOURS,
        "is_change": address != user.email,
        "current_address": user.email,
    }
    send_email(session, "verify_email", address, context, kind="verify-email")
    user.verification_sent_at = utcnow()
    session.flush()


def send_email_changed_email(session: Session, user: User, new_address: str) -> None:
    """Tell the address in use that the account asked to move to ``new_address``."""
    context = {
        "display_name": user.display_name,
        "address": user.email,
        "new_address": new_address,
        "hours": LINK_HOURS,
        "settings_url": absolute_url("accounts.settings"),
    }
    send_email(session, "email_changed", user.email, context, kind="email-changed")


def send_account_exists_email(
    session: Session, owner: User, join: str | None = None, next_url: str | None = None
) -> None:
    """Tell the owner of an address that someone tried to use it for an account; the login
    link carries on to what they were doing (``join``, ``next_url``: checked by the caller)."""
    carried = {key: value for key, value in (("next", next_url), ("join", join)) if value}
    context = {
        "display_name": owner.display_name,
        "address": owner.email,
        "login_url": absolute_url("accounts.login", **carried),
        "reset_url": absolute_url(RESET_PAGE_ENDPOINT),
    }
    send_email(session, "account_exists", owner.email, context, kind="account-exists")


# --- registration, resending, changing the address, confirming -------------------------------


def sign_up(
    session: Session,
    email: str,
    display_name: str,
    password: str,
    *,
    join: str | None = None,
    next_url: str | None = None,
) -> str:
    """Register ``email``, answering the same whether or not it has an account.

    A new address gets an unconfirmed account and a confirmation link; an
    address with an account gets an email saying so, with a way to log in,
    and no second account. Both hash the password once, so neither answers
    noticeably sooner. ``join`` (a community's address) and ``next_url`` (a
    path on this site, checked by the caller) ride along: the link joins the
    community, the login link leads on. Returns the normalised address. Raises
    ValidationFailed for input that is wrong whoever is registered.
    """
    address, name = check_new_account(email, display_name, password)
    join = join_argument(join)
    owner = find_user_by_email(session, address)
    if owner is not None:
        spend_a_password_hash(password)
        send_account_exists_email(session, owner, join, next_url)
        return address
    user = new_user(address, name, password, verified=False)
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        # Registered by a request that committed a moment ago.
        owner = find_user_by_email(session, address)
        if owner is None:
            raise
        send_account_exists_email(session, owner, join, next_url)
        return address
    send_verification_email(session, user, address, join)
    return address


def _check_wait(user: User) -> None:
    sent = user.verification_sent_at
    if sent is None:
        return
    left = sent + RESEND_WAIT - utcnow()
    if left > timedelta(0):
        minutes = max(1, math.ceil(left.total_seconds() / 60))
        raise TooSoon(
            f"We sent you a link less than {RESEND_WAIT.seconds // 60} minutes ago. "
            "Look in your inbox, and in your spam folder; you can ask for another in "
            f"{minutes} minute{'s' if minutes != 1 else ''}."
        )


def _send_link_or_explain(session: Session, user: User, address: str) -> None:
    """A link to ``address``, or, when another account has it, an explanation to that account."""
    owner = find_user_by_email(session, address)
    if owner is not None and owner.id != user.id:
        send_account_exists_email(session, owner)
        user.verification_sent_at = utcnow()
        session.flush()
    else:
        send_verification_email(session, user, address)


def address_to_confirm(user: User) -> str | None:
    """The address a confirmation link would go to now: the one asked for, else an
    unconfirmed present one; None when there is nothing to confirm."""
    if user.pending_email:
        return user.pending_email
    return None if user.email_verified else user.email


def resend_link(session: Session, user: User) -> str:
    """Send the confirmation link again (at most once in ``RESEND_WAIT``); returns where to."""
    address = address_to_confirm(user)
    if address is None:
        raise ValidationFailed("Your email address is confirmed already.")
    _check_wait(user)
    _send_link_or_explain(session, user, address)
    return address


def request_email_change(session: Session, user: User, new_email: str, password: str) -> str:
    """Ask to move ``user`` to ``new_email``; it takes effect when the link sent there is followed.

    The present address keeps getting mail, and is told of the request. An
    address another account has is answered the same way (its owner is told
    instead of sent a link). Returns the normalised new address.
    """
    if not password_matches(user, password):
        raise ValidationFailed("That is not your password.", field="password")
    try:
        address = normalize_email(new_email)
    except ValidationFailed as error:
        raise ValidationFailed(error.message, field="new_email") from error
    if address == user.email:
        raise ValidationFailed("That is the address your account uses now.", field="new_email")
    _check_wait(user)
    user.pending_email = address
    _send_link_or_explain(session, user, address)
    send_email_changed_email(session, user, address)
    return address


def cancel_email_change(session: Session, user: User) -> None:
    user.pending_email = None
    session.flush()


def _link_claims(session: Session, token: str, max_age: int | None = None) -> tuple[User, str]:
    """The account and address a link names, or LinkRefused (expired, forged, cut short)."""
    user, address, _join = _link_claims_and_join(session, token, max_age)
    return user, address


def _link_claims_and_join(
    session: Session, token: str, max_age: int | None = None
) -> tuple[User, str, str | None]:
    """The account and address a link names, and the community it joins, if any."""
    try:
        claims = tokens.verify(
            current_app.config["SECRET_KEY"], tokens.VERIFY_EMAIL, token, max_age=max_age
        )
    except tokens.TokenExpired as exc:
        raise LinkRefused(EXPIRED, expired=True) from exc
    except tokens.TokenInvalid as exc:
        raise LinkRefused(NOT_VALID) from exc
    user_id = claims.get("u") if isinstance(claims, dict) else None
    address = claims.get("e") if isinstance(claims, dict) else None
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.is_deleted or not isinstance(address, str):
        raise LinkRefused(NOT_VALID)
    return user, address, join_argument(claims.get("j"))


def resend_for_expired_link(session: Session, token: str) -> str:
    """A new link for the address an expired one named, asked for without logging in.

    Only the address the old link went to gets it, and only while the account
    still waits for that address to be confirmed; the same wait applies.
    """
    user, address = _link_claims(session, token, max_age=EXPIRED_LINK_RESEND_AGE)
    if address != address_to_confirm(user):
        raise LinkRefused(NO_LONGER_ASKED)
    _check_wait(user)
    _send_link_or_explain(session, user, address)
    return address


def confirm_address(session: Session, token: str) -> Confirmation:
    """Confirm the address a link names, if the account still uses or asks for it.

    Raises LinkRefused (expired, forged or cut short, or for an address the
    account no longer has or asks for).
    """
    user, address, join = _link_claims_and_join(session, token)
    if address == user.email:
        already = user.email_verified
        if not already:
            user.email_verified_at = utcnow()
            session.flush()
        return Confirmation(user, address, already=already, join=join)
    if address != user.pending_email:
        raise LinkRefused(NO_LONGER_ASKED)
    owner = find_user_by_email(session, address)
    if owner is not None and owner.id != user.id:
        raise LinkRefused(TAKEN_SINCE)
    user.email, user.pending_email, user.email_verified_at = address, None, utcnow()
    session.flush()
    return Confirmation(user, address, changed=True)
