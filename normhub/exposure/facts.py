"""The statements a person's standing is read from, as it is now.

The API answers a check on every request, so these are compiled once at import
as DirectStatements and read columns, never ORM objects (see
:mod:`normhub.autocommit`). ``normhub.exposure.history`` answers the same
questions as of an earlier instant, from the ledger's events.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, case, func, literal, null, select
from sqlalchemy.orm import Session, aliased

from normhub.accounts.models import User
from normhub.autocommit import DirectConnection, DirectStatement
from normhub.communities.models import Membership
from normhub.db import utc_iso
from normhub.exposure.ageing import period_columns
from normhub.exposure.levels import ACTIVE_STATUSES, EXPOSED, READ
from normhub.exposure.models import READING_KINDS, ExposureEvent, ExposureSummary
from normhub.norms.models import Assumption, Norm, NormPrerequisite, NormVersion
from normhub.responses.models import AssumptionResponse, Response


def is_exposed(level: int | None, material_base: int | None, last_material: int) -> bool:
    """Exposed (read or better) on the current material version."""
    return level is not None and material_base >= last_material and level >= EXPOSED


_VERSIONS_SINCE = DirectStatement(
    select(
        NormVersion.number,
        NormVersion.is_material,
        NormVersion.change_summary,
        NormVersion.created_at,
        Assumption.key,
        Assumption.statement,
    )
    .outerjoin(Assumption, Assumption.version_id == NormVersion.id)
    .where(
        NormVersion.norm_id == bindparam("norm_id"),
        NormVersion.number >= bindparam("since"),
        NormVersion.number <= bindparam("until"),
    )
    .order_by(NormVersion.number, Assumption.position)
)


def material_changes(
    db: Session | DirectConnection, norm_id: int, seen: int, until: int
) -> list[dict]:
    """Each material version after ``seen`` up to ``until``, with its assumption changes."""
    versions: dict[int, tuple] = {}  # number -> (row, {assumption key: statement})
    rows = _VERSIONS_SINCE.all(db, {"norm_id": norm_id, "since": max(seen, 1), "until": until})
    for row in rows:
        _version, assumptions = versions.setdefault(row.number, (row, {}))
        if row.key is not None:
            assumptions[row.key] = row.statement
    changes = []
    ordered = list(versions.values())
    for (_previous, before), (version, after) in zip(ordered, ordered[1:], strict=False):
        if not version.is_material:
            continue
        changes.append(
            {
                "number": version.number,
                "change_summary": version.change_summary,
                "created_at": utc_iso(version.created_at),
                "assumptions_added": [text for k, text in after.items() if k not in before],
                "assumptions_reworded": [
                    text for k, text in after.items() if k in before and before[k] != text
                ],
                "assumptions_removed": [text for k, text in before.items() if k not in after],
            }
        )
    return changes


def prerequisite_closure():
    """Every norm the bound ``norm_id`` builds on, transitively (UNION makes cycles end)."""
    reached = (
        select(NormPrerequisite.prerequisite_id.label("id"))
        .where(NormPrerequisite.norm_id == bindparam("norm_id"))
        .cte("reached", recursive=True)
    )
    reached = reached.union(
        select(NormPrerequisite.prerequisite_id).join(
            reached, NormPrerequisite.norm_id == reached.c.id
        )
    )
    return select(reached.c.id)


def _unmet_prerequisites_statement():
    """The open or in-force norms of the closure, with the subject's summary row if any."""
    return (
        select(
            Norm.id,
            Norm.slug,
            Norm.title,
            Norm.status,
            Norm.last_material_version_number,
            ExposureSummary.level,
            ExposureSummary.material_base,
        )
        .outerjoin(
            ExposureSummary,
            and_(
                ExposureSummary.norm_id == Norm.id,
                ExposureSummary.user_id == bindparam("subject_id"),
            ),
        )
        .where(
            Norm.id.in_(prerequisite_closure()),
            Norm.id != bindparam("norm_id"),
            Norm.status.in_([literal(status) for status in ACTIVE_STATUSES]),
        )
        .order_by(Norm.title, Norm.id)
    )


_UNMET_PREREQUISITES = DirectStatement(_unmet_prerequisites_statement())


def unmet_prerequisites(db: Session | DirectConnection, norm, subject) -> list:
    """Open or in-force norms that ``norm`` builds on (transitively) and ``subject`` hasn't read.

    Each is a row with the norm's id, slug, title and status (prerequisites
    are always in the norm's own community).
    """
    rows = _UNMET_PREREQUISITES.all(db, {"norm_id": norm.id, "subject_id": subject.id})
    return [
        row
        for row in rows
        if not is_exposed(row.level, row.material_base, row.last_material_version_number)
    ]


def latest_response(subject_id, norm_id, *conditions):
    """The id of the subject's latest response to the norm.

    ``conditions`` are functions of the responses table's alias, as in ``newest_reading``.
    """
    latest = aliased(Response, name="latest")
    return (
        select(latest.id)
        .where(
            latest.norm_id == norm_id,
            latest.user_id == subject_id,
            *(condition(latest) for condition in conditions),
        )
        .order_by(latest.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def newest_reading(subject_id, norm_id, *conditions):
    """The newest version the subject read, responded to or wrote.

    ``conditions`` are functions of the events table's alias: this runs as a
    subquery of statements that read the same table.
    """
    reading = aliased(ExposureEvent, name="reading")
    return (
        select(func.max(reading.version_number))
        .where(
            reading.user_id == subject_id,
            reading.norm_id == norm_id,
            reading.kind.in_([literal(kind) for kind in READING_KINDS]),
            *(condition(reading) for condition in conditions),
        )
        .scalar_subquery()
    )


def with_response(statement, response_id, norm_id):
    """``statement`` with the response ``response_id`` outer-joined, one row per answered
    assumption (the wording of the version it answered), whether the norm builds on
    anything at all, and the re-read periods the norm and its community ask for."""
    builds_on = select(NormPrerequisite.norm_id).where(NormPrerequisite.norm_id == norm_id).exists()
    return (
        statement.add_columns(
            Response.id.label("response_id"),
            Response.understood,
            Response.endorsement,
            Response.created_at.label("response_at"),
            NormVersion.number.label("response_version"),
            Assumption.position,
            Assumption.statement,
            AssumptionResponse.understood.label("assumption_understood"),
            AssumptionResponse.agreement,
            AssumptionResponse.reason,
            builds_on.label("builds_on"),
            *period_columns(norm_id),
        )
        .outerjoin(Response, Response.id == response_id)
        .outerjoin(NormVersion, NormVersion.id == Response.version_id)
        .outerjoin(AssumptionResponse, AssumptionResponse.response_id == Response.id)
        .outerjoin(Assumption, Assumption.id == AssumptionResponse.assumption_id)
        .order_by(Assumption.position, AssumptionResponse.id)
    )


def ledger_events(*conditions):
    """The subject's events on the norm (bound ``subject_id``, ``norm_id``)."""
    return select(
        ExposureEvent.kind,
        ExposureEvent.level,
        ExposureEvent.version_number,
        ExposureEvent.created_at,
    ).where(
        ExposureEvent.user_id == bindparam("subject_id"),
        ExposureEvent.norm_id == bindparam("norm_id"),
        *conditions,
    )


def with_check_facts(statement, subject_id, norm_id, community_id):
    """``statement`` with everything a check needs about (subject, norm) outer-joined.

    One row per answered assumption of the subject's latest response (one row
    when there is none): membership, summary, that response with its version
    number, whether the norm builds on anything at all, and ``newest_read``:
    the newest version they read, responded to or wrote, looked up only when
    the summary cannot tell (they read something once, but not the newest
    text they were shown). The three ids are SQL expressions: bind parameters
    for a check on its own, or the columns of a query that resolves them (the
    API's, so a check needs one round trip). Columns rather than ORM objects,
    run as a DirectStatement: this runs on every check.
    """
    with_ledger = (
        statement.add_columns(
            Membership.id.label("membership_id"),
            Membership.left_at,
            ExposureSummary.level,
            ExposureSummary.level_version,
            ExposureSummary.latest_version,
            ExposureSummary.material_base,
            ExposureSummary.highest_level,
            ExposureSummary.highest_level_version,
            ExposureSummary.first_seen_at,
            ExposureSummary.level_at,
            ExposureSummary.last_seen_at,
            # CASE evaluates the lookup only for the rows that need it.
            case(
                (
                    and_(ExposureSummary.level < READ, ExposureSummary.highest_level >= READ),
                    newest_reading(subject_id, norm_id),
                ),
                else_=null(),
            ).label("newest_read"),
        )
        .outerjoin(
            Membership,
            and_(Membership.user_id == subject_id, Membership.community_id == community_id),
        )
        .outerjoin(
            ExposureSummary,
            and_(ExposureSummary.user_id == subject_id, ExposureSummary.norm_id == norm_id),
        )
    )
    return with_response(with_ledger, latest_response(subject_id, norm_id), norm_id)


CHECK_FACTS = DirectStatement(
    with_check_facts(
        select(User.id).where(User.id == bindparam("subject_id")),
        User.id,
        bindparam("norm_id"),
        bindparam("community_id"),
    )
)
