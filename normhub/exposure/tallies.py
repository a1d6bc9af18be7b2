"""Coverage tallies: how many active members stand at each level of a norm, kept by the database.

Counting coverage from the summary rows reads a row per exposed member and
norm: a home page that shows thirty norms in a community of thousands read
tens of thousands of rows per request. The tallies hold the same counts per
(norm, material base, level), kept by triggers (migration 0026) in the
transaction of every write to a summary or a membership, so reading them
costs a few rows per norm whatever the size of the community.

Two jobs look after them: :func:`fold_tallies` folds PostgreSQL's appended
rows together every few minutes, and :func:`recount_tallies` counts them again
from the summaries every night, which also heals the one race triggers cannot
see (a member leaving while another transaction changes their summary). The
in-force gate recounts its norm before it decides, so a drifted tally can
never put a norm in force.
"""

from __future__ import annotations

from collections.abc import Iterable

from huey import crontab
from sqlalchemy import Select, bindparam, delete, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from normhub.exposure.models import CoverageTally
from normhub.jobs.queue import periodic_job

# The count, from the summaries themselves: what the tallies must always equal.
_COUNTED = """SELECT s.norm_id, s.material_base, s.level,
        CASE WHEN s.responded_base = s.material_base THEN 1 ELSE 0 END AS responded,
        count(*) AS members
    FROM exposure_summaries s
    JOIN norms n ON n.id = s.norm_id
    JOIN memberships m ON m.community_id = n.community_id AND m.user_id = s.user_id
        AND m.left_at IS NULL
    WHERE s.level > 0 {norms}
    GROUP BY s.norm_id, s.material_base, s.level, 4"""

_COLUMNS = "norm_id, material_base, level, responded, members"
_KEY = (
    CoverageTally.norm_id,
    CoverageTally.material_base,
    CoverageTally.level,
    CoverageTally.responded,
)

# What the ledger keeps in ``responded_base``, from the responses: for rows written
# without it (bulk loaders), before the tallies are counted again.
_RESPONDED_BASES = """UPDATE exposure_summaries SET responded_base = (
    SELECT coalesce(max(m.number), newest.number) FROM (
        SELECT max(v.number) AS number FROM responses r
        JOIN norm_versions v ON v.id = r.version_id
        WHERE r.norm_id = exposure_summaries.norm_id
            AND r.user_id = exposure_summaries.user_id) AS newest
    LEFT JOIN norm_versions m ON m.norm_id = exposure_summaries.norm_id
        AND m.is_material AND m.number <= newest.number
    GROUP BY newest.number)
WHERE EXISTS (SELECT 1 FROM responses r WHERE r.norm_id = exposure_summaries.norm_id
    AND r.user_id = exposure_summaries.user_id)"""


def tallied_levels(norm_ids: Iterable[int]) -> Select:
    """SELECT (norm id, material base, level, responded, active members) for every key
    with members."""
    members = func.sum(CoverageTally.members)
    return (
        select(*_KEY, members)
        .where(CoverageTally.norm_id.in_(list(norm_ids)))
        .group_by(*_KEY)
        .having(members != 0)
    )


def counted_levels(session: Session, norm_ids: Iterable[int]) -> list[tuple[int, int, int, int]]:
    """The same figures as :func:`tallied_levels`, counted from the summary rows."""
    ids = list(norm_ids)
    if not ids:
        return []
    rows = session.execute(_bind_ids(text(_COUNTED.format(norms="AND s.norm_id IN :ids")), ids))
    return [tuple(row) for row in rows.all()]


def recount_tallies(session: Session | Connection, norm_ids: Iterable[int] | None = None) -> None:
    """Count the tallies of ``norm_ids`` (every norm: None) again from the summaries.

    On PostgreSQL one statement deletes and counts under one snapshot: a
    writer that commits during the recount either is in the count and its
    appended row deleted, or neither, so nothing is counted twice or lost.
    """
    ids = None if norm_ids is None else list(norm_ids)
    if ids == []:
        return
    only = "" if ids is None else "AND s.norm_id IN :ids"
    where = "" if ids is None else "WHERE norm_id IN :ids"
    counted = _COUNTED.format(norms=only)
    if _dialect_name(session) == "postgresql":
        statement = text(
            f"WITH gone AS (DELETE FROM coverage_tallies {where} RETURNING id) "  # noqa: S608
            f"INSERT INTO coverage_tallies ({_COLUMNS}) {counted}"
        )
        session.execute(_bind_ids(statement, ids))
        return
    session.execute(_bind_ids(text(f"DELETE FROM coverage_tallies {where}"), ids))  # noqa: S608
    session.execute(
        _bind_ids(text(f"INSERT INTO coverage_tallies ({_COLUMNS}) {counted}"), ids)  # noqa: S608
    )


def fill_responded_bases(session: Session | Connection) -> None:
    """Set every summary's ``responded_base`` from the responses, as the ledger would
    have; for rows a bulk loader wrote. Then :func:`recount_tallies`."""
    session.execute(text(_RESPONDED_BASES))


def _dialect_name(session: Session | Connection) -> str:
    bind = session if isinstance(session, Connection) else session.get_bind()
    return bind.dialect.name


def fold_tallies(session: Session) -> None:
    """Fold each key's rows into one, and drop keys whose members add up to none.

    SQLite keeps one row per key already; only the empty ones go.
    """
    if _dialect_name(session) != "postgresql":
        session.execute(delete(CoverageTally).where(CoverageTally.members == 0))
        return
    session.execute(
        text(
            f"""WITH spread AS (
                SELECT norm_id, material_base, level, responded FROM coverage_tallies
                GROUP BY norm_id, material_base, level, responded
                HAVING count(*) > 1 OR sum(members) = 0),
            gone AS (
                DELETE FROM coverage_tallies t USING spread
                WHERE (t.norm_id, t.material_base, t.level, t.responded)
                    = (spread.norm_id, spread.material_base, spread.level, spread.responded)
                RETURNING t.norm_id, t.material_base, t.level, t.responded, t.members)
            INSERT INTO coverage_tallies ({_COLUMNS})
            SELECT norm_id, material_base, level, responded, sum(members) FROM gone
            GROUP BY norm_id, material_base, level, responded HAVING sum(members) <> 0"""  # noqa: S608 (no input in it)
        )
    )


def _bind_ids(statement, ids: list[int] | None):
    return statement if ids is None else statement.bindparams(bindparam("ids", ids, expanding=True))


@periodic_job("exposure.fold-tallies", crontab(minute="*/5"))
def fold_tallies_job(session: Session) -> None:
    fold_tallies(session)


@periodic_job("exposure.recount-tallies", crontab(minute="23", hour="3"))
def recount_tallies_job(session: Session) -> None:
    recount_tallies(session)
