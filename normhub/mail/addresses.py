"""Whether an address may be mailed, and recording that it may not.

Every sender asks here before mailing an address (``is_deliverable``, or
``undeliverable`` inside a batch query) and records a permanent refusal here
(``record_bounce``): what one email learned about an address holds for every
other email to it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists
from sqlalchemy.orm import Session

from normhub.db import dialect_insert, utcnow
from normhub.mail.models import EmailAddressState

_states = EmailAddressState.__table__
REASON_MAX = 1000


def is_deliverable(session: Session, address: str) -> bool:
    return session.get(EmailAddressState, address) is None


def undeliverable(address_column):
    """A boolean SQL expression: mail to ``address_column`` must not be sent.

    For queries that choose many recipients at once, one EXISTS per row on the
    primary key rather than a query per address.
    """
    return exists().where(_states.c.address == address_column)


def bounce_of(session: Session, address: str) -> EmailAddressState | None:
    """The bounce recorded on ``address``, if mail to it bounced."""
    state = session.get(EmailAddressState, address)
    return state if state is not None and state.status == "bounced" else None


def state_upsert(dialect: str, address: str, status: str, reason: str, at: datetime | None = None):
    """INSERT … ON CONFLICT DO UPDATE of an address's state, for a Core connection.

    A sender that records outcomes on its own connection runs it there (on
    PostgreSQL as a CTE of its one statement per message).
    """
    values = {"status": status, "reason": reason[:REASON_MAX], "recorded_at": at or utcnow()}
    return (
        dialect_insert(dialect)(_states)
        .values(address=address, **values)
        .on_conflict_do_update(index_elements=["address"], set_=values)
    )


def record_bounce(session: Session, address: str, reason: str) -> None:
    """The server refused ``address`` permanently: no more mail to it."""
    _record(session, address, "bounced", reason)


def suppress(session: Session, address: str, reason: str) -> None:
    """Stop mailing ``address`` (a complaint, an operator's decision)."""
    _record(session, address, "suppressed", reason)


def _record(session: Session, address: str, status: str, reason: str) -> None:
    dialect = session.get_bind().dialect.name
    session.execute(state_upsert(dialect, address, status, reason))
    # The upsert went past the ORM: a loaded copy of the row is out of date.
    loaded = session.identity_map.get(session.identity_key(EmailAddressState, address))
    if loaded is not None:
        session.expire(loaded)


def lift_bounce(session: Session, address: str) -> None:
    """Try ``address`` again: its owner says it works now. A suppression stays."""
    state = bounce_of(session, address)
    if state is not None:
        session.delete(state)
        session.flush()
