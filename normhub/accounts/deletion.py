"""Deleting one's own account: what names the person goes, what the community relies on stays.

The users row is kept, emptied: the norms and comments its owner wrote keep
an author, shown as "a former member" with no link, and the versions, status
changes and invites they made keep theirs. Everything that says who they
were goes: name, address, handle, password, about text, every login. Each
feature erases what it holds about them in the same transaction, listening to
``events.Account.Deleting``; one that must refuse (the only admin of a
community with other members) raises, and nothing is deleted.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from normhub import events
from normhub.accounts import logins
from normhub.accounts.models import FORMER_MEMBER_NAME, User, new_handle
from normhub.accounts.services import password_matches
from normhub.db import utcnow
from normhub.errors import ValidationFailed

# Not an address: the reserved .invalid domain (RFC 2606) receives no mail and
# the registration form refuses it, so no one can claim or be sent to it.
ERASED_EMAIL = "deleted-{id}@deleted.invalid"
# No argon2 hash looks like this, so no password matches it.
NO_PASSWORD = "!"  # noqa: S105  (a marker, not a secret)


def delete_account(
    session: Session, user: User, password: str, *, remove_writing: bool = False
) -> None:
    """Delete ``user``'s account after checking their password.

    ``remove_writing`` also takes their comments and response reasons off the
    site; their norms stay either way (see templates/accounts/data.html for why).
    """
    if user.is_deleted:
        raise ValidationFailed("This account is already deleted.")
    if not password_matches(user, password):
        raise ValidationFailed("That is not your password.", field="password")
    events.publish(session, events.Account.Deleting, user=user, remove_writing=remove_writing)
    erase_person(session, user)


def erase_person(session: Session, user: User) -> None:
    """Empty the users row of everything that identified its owner, and end every login."""
    user.display_name = FORMER_MEMBER_NAME
    user.email = ERASED_EMAIL.format(id=user.id)
    user.handle = new_handle()
    user.password_hash = NO_PASSWORD
    user.bio = ""
    user.is_admin = False
    user.pending_email = None
    user.email_verified_at = None
    user.verification_sent_at = None
    user.deleted_at = utcnow()
    session.flush()
    logins.end_all(session, user)
