"""``delivered`` exposure events for one sent digest, in a fixed number of statements.

It lives beside ``ledger`` so that the exposure rules, in their one-at-a-time and
their bulk form, stay in one package.

``exposure.ledger.record_event`` records one event and updates the member's
summary row through the ORM: about four statements and an ORM flush per norm.
A digest presents several norms, and the send loop has to keep up with the
mail server, so this module does the same for all the norms of one message
at once: one INSERT of the events, and one INSERT … ON CONFLICT DO UPDATE
that creates each missing summary as a first delivery leaves it, or applies
the event to the existing one.

On PostgreSQL each is one execution that takes its rows as arrays (INSERT …
SELECT … FROM unnest(…)): an executemany there is one execution per row
(psycopg), and a multi-row VALUES is a new statement for each row count,
which SQLAlchemy compiles every time. A fixed statement is compiled and
prepared once, and the digest sender can run both as data-modifying CTEs of
the one statement that marks a message sent (see ``digest/delivery.py``).
SQLite runs them as executemany (its driver loops in C).

Its one caller, the digest sender, passes members whose address is confirmed
only (``digest.due`` selects no one else, and a confirmed address stays
confirmed), which is the rule ``ledger.record_event`` applies to one
"delivered" event. The statements do not look at ``users`` again: on
PostgreSQL that would push the sender's one statement past psycopg's 4 kB.

The conflict branch applies exactly the rules of ``exposure.ledger.apply_event`` for a
non-"responded" event (every SET expression reads the row as it was, like
``apply_event`` reads the summary before changing it); the digest tests run both
paths on the same histories and compare the summaries, so a change of rules
in the ledger shows up as a failing test here. Row locking: the
upsert locks each summary row, which is what ``record_event``'s FOR UPDATE
achieves, so concurrent events on the same (member, norm) stay serialised.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    DateTime,
    Executable,
    Integer,
    SmallInteger,
    String,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from normhub.db import dialect_insert
from normhub.exposure.models import LEVEL_RANK, ExposureEvent, ExposureSummary

DELIVERED = LEVEL_RANK["delivered"]
NONE = LEVEL_RANK["none"]


@dataclass(frozen=True)
class Delivery:
    norm_id: int
    version_number: int
    # The newest material version at or before ``version_number``: for the
    # current version of a norm, its ``last_material_version_number``.
    material_base: int


SUMMARY_COLUMNS = (
    "user_id",
    "norm_id",
    "first_seen_at",
    "last_seen_at",
    "latest_version",
    "material_base",
    "level",
    "level_version",
    "level_at",
    "highest_level",
    "highest_level_version",
    "highest_level_at",
)


def _rows(alias: str, **types):
    """unnest() of one array parameter per column, named ``d_{column}``.

    The events and the summaries take the same arrays under the same names,
    so in one statement they are sent (and converted) once.
    """
    arrays = [bindparam(f"d_{name}", type_=ARRAY(type_)) for name, type_ in types.items()]
    return func.unnest(*arrays).table_valued(*types).render_derived(name=alias)


# Constants are written into the SQL, not bound: the sender's one statement per
# message (see digest/delivery.py) then stays under the 4 kB up to which psycopg
# caches a query's conversion, instead of converting it for every message.
_DELIVERED_SQL = literal_column(str(DELIVERED), SmallInteger)
_ZERO = literal_column("0", Integer)


@functools.cache
def _events_insert(dialect_name: str):
    events = ExposureEvent.__table__
    if dialect_name != "postgresql":
        return insert(events)
    rows = _rows("ev", user_id=Integer, norm_id=Integer, version=Integer, at=DateTime)
    return insert(events).from_select(
        ["user_id", "norm_id", "version_number", "kind", "level", "created_at"],
        select(
            rows.c.user_id,
            rows.c.norm_id,
            rows.c.version,
            literal_column("'delivered'", String),
            literal_column("'delivered'", String),
            rows.c.at,
        ),
    )


@functools.cache
def _summary_upsert(dialect_name: str):
    """INSERT the summary as a first delivery would leave it, or apply the event to it.

    The inserted row carries the event (when, version, material base), so the
    conflict branch reads it from ``excluded``; every SET expression reads
    the existing row as it was, like ``apply_event`` reads the summary before
    changing it.
    """
    if dialect_name == "postgresql":
        rows = _rows(
            "su", user_id=Integer, norm_id=Integer, at=DateTime, version=Integer, base=Integer
        )
        statement = dialect_insert(dialect_name)(ExposureSummary.__table__).from_select(
            SUMMARY_COLUMNS,
            select(
                rows.c.user_id,
                rows.c.norm_id,
                rows.c.at,
                rows.c.at,
                rows.c.version,
                rows.c.base,
                _DELIVERED_SQL,
                rows.c.version,
                rows.c.at,
                _DELIVERED_SQL,
                rows.c.version,
                rows.c.at,
            ),
        )
    else:
        statement = dialect_insert(dialect_name)(ExposureSummary.__table__)
    summary, new = ExposureSummary.__table__.c, statement.excluded
    at, number, base = new.last_seen_at, new.latest_version, new.material_base
    level = _DELIVERED_SQL
    new_family = base > summary.material_base
    same_family_higher = and_(
        base == summary.material_base,
        or_(
            summary.level < level,
            and_(summary.level == level, number > func.coalesce(summary.level_version, _ZERO)),
        ),
    )
    takes_level = or_(new_family, same_family_higher)
    takes_highest = or_(
        summary.highest_level < level,
        and_(
            summary.highest_level == level,
            number > func.coalesce(summary.highest_level_version, _ZERO),
        ),
    )
    return statement.on_conflict_do_update(
        index_elements=["user_id", "norm_id"],
        set_={
            "last_seen_at": case(
                (or_(summary.last_seen_at.is_(None), summary.last_seen_at < at), at),
                else_=summary.last_seen_at,
            ),
            "latest_version": case(
                (func.coalesce(summary.latest_version, _ZERO) < number, number),
                else_=summary.latest_version,
            ),
            "highest_level": case((takes_highest, level), else_=summary.highest_level),
            "highest_level_version": case(
                (takes_highest, number), else_=summary.highest_level_version
            ),
            "highest_level_at": case((takes_highest, at), else_=summary.highest_level_at),
            "material_base": case((new_family, base), else_=summary.material_base),
            "level": case((takes_level, level), else_=summary.level),
            "level_version": case((takes_level, number), else_=summary.level_version),
            "level_at": case((takes_level, at), else_=summary.level_at),
        },
    )


def record_delivered(
    session: Session, user_id: int, deliveries: list[Delivery], at: datetime
) -> None:
    """What ``record_event(..., kind="delivered", at=at)`` does for each delivery."""
    record_deliveries(session, [(user_id, d, at) for d in deliveries])


def record_deliveries(
    session: Session | Connection, items: list[tuple[int, Delivery, datetime]]
) -> None:
    """The same for several members at once: (member id, delivery, when) each.

    A (member, norm) pair must appear at most once: one digest per member, one
    entry per norm. ``session`` may be a plain Connection (the send loop's).
    """
    if not items:
        return
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    statements = delivery_statements(dialect.name)
    for statement, parameters in zip(
        statements, delivery_parameters(dialect.name, items), strict=True
    ):
        session.execute(statement, parameters)


def delivery_statements(dialect_name: str) -> tuple[Executable, Executable]:
    """The events INSERT and the summaries upsert that ``record_deliveries`` runs, in order."""
    return _events_insert(dialect_name), _summary_upsert(dialect_name)


def delivery_parameters(
    dialect_name: str, items: list[tuple[int, Delivery, datetime]]
) -> tuple[dict | list[dict], dict | list[dict]]:
    """Their parameters for ``items`` (not empty).

    On PostgreSQL one dict of arrays (``d_…``), the same for both (one
    execution each); elsewhere a list of rows each (executemany).
    """
    if dialect_name == "postgresql":
        arrays = {
            "d_user_id": [user_id for user_id, _, _ in items],
            "d_norm_id": [d.norm_id for _, d, _ in items],
            "d_version": [d.version_number for _, d, _ in items],
            "d_at": [at for _, _, at in items],
            "d_base": [d.material_base for _, d, _ in items],
        }
        return arrays, arrays
    events = [
        {
            "user_id": user_id,
            "norm_id": d.norm_id,
            "version_number": d.version_number,
            "kind": "delivered",
            "level": "delivered",
            "created_at": at,
        }
        for user_id, d, at in items
    ]
    summaries = [
        {
            "user_id": user_id,
            "norm_id": d.norm_id,
            "first_seen_at": at,
            "last_seen_at": at,
            "latest_version": d.version_number,
            "material_base": d.material_base,
            "level": DELIVERED,
            "level_version": d.version_number,
            "level_at": at,
            "highest_level": DELIVERED,
            "highest_level_version": d.version_number,
            "highest_level_at": at,
        }
        for user_id, d, at in items
    ]
    return events, summaries
