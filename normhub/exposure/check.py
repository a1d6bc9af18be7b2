"""The exposure check: what one person has seen of a norm, in plain words first.

The API answers a check on every request, so the check's statements are
compiled once at import as DirectStatements and read columns, never ORM
objects (see :mod:`normhub.autocommit`). Every check is recorded, and the
person checked can read the record (``checks_about``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, and_, bindparam, insert, literal, select
from sqlalchemy.orm import Session, aliased, selectinload

from normhub import events
from normhub.accounts.models import User
from normhub.autocommit import DirectConnection, DirectStatement
from normhub.communities.models import Membership
from normhub.db import utcnow
from normhub.errors import Forbidden
from normhub.exposure.levels import ACTIVE_STATUSES, EXPOSED, NONE
from normhub.exposure.models import LEVELS, ExposureCheck, ExposureEvent, ExposureSummary
from normhub.exposure.report import ExposureReport, plain_answer, utc_iso
from normhub.norms.models import Assumption, Norm, NormPrerequisite, NormVersion
from normhub.responses.models import AssumptionResponse, Response

TIMELINE_LIMIT = 50


def _is_exposed(level: int | None, material_base: int | None, last_material: int) -> bool:
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
    .where(NormVersion.norm_id == bindparam("norm_id"), NormVersion.number >= bindparam("since"))
    .order_by(NormVersion.number, Assumption.position)
)


def _material_changes(db: Session | DirectConnection, norm: Norm, seen: int) -> list[dict]:
    """Each material version after ``seen``, with its assumption changes."""
    versions: dict[int, tuple] = {}  # number -> (row, {assumption key: statement})
    for row in _VERSIONS_SINCE.all(db, {"norm_id": norm.id, "since": max(seen, 1)}):
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


def _unmet_prerequisites_statement():
    """Every norm a norm builds on, transitively (UNION makes cycles terminate),
    that is open or in force, with the subject's summary row if any."""
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
            Norm.id.in_(select(reached.c.id)),
            Norm.id != bindparam("norm_id"),
            Norm.status.in_([literal(status) for status in ACTIVE_STATUSES]),
        )
        .order_by(Norm.title, Norm.id)
    )


_UNMET_PREREQUISITES = DirectStatement(_unmet_prerequisites_statement())


def unmet_prerequisites(db: Session | DirectConnection, norm: Norm, subject: User) -> list:
    """Open or in-force norms that ``norm`` builds on (transitively) and ``subject`` hasn't read.

    Each is a row with the norm's id, slug, title and status (prerequisites
    are always in the norm's own community).
    """
    rows = _UNMET_PREREQUISITES.all(db, {"norm_id": norm.id, "subject_id": subject.id})
    return [
        row
        for row in rows
        if not _is_exposed(row.level, row.material_base, row.last_material_version_number)
    ]


def with_check_facts(statement, subject_id, norm_id, community_id):
    """``statement`` with everything a check needs about (subject, norm) outer-joined.

    One row per answered assumption of the subject's latest response (one row
    when there is none): membership, summary, that response with its version
    number, and whether the norm builds on anything at all. The three ids are
    SQL expressions: bind parameters for a check on its own, or the columns of
    a query that resolves them (the API's, so a check needs one round trip).
    Columns rather than ORM objects, run as a DirectStatement: this runs on
    every check.
    """
    latest = aliased(Response, name="latest")
    latest_response = (
        select(latest.id)
        .where(latest.norm_id == norm_id, latest.user_id == subject_id)
        .order_by(latest.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    builds_on = select(NormPrerequisite.norm_id).where(NormPrerequisite.norm_id == norm_id).exists()
    return (
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
        )
        .outerjoin(
            Membership,
            and_(Membership.user_id == subject_id, Membership.community_id == community_id),
        )
        .outerjoin(
            ExposureSummary,
            and_(ExposureSummary.user_id == subject_id, ExposureSummary.norm_id == norm_id),
        )
        .outerjoin(Response, Response.id == latest_response)
        .outerjoin(NormVersion, NormVersion.id == Response.version_id)
        .outerjoin(AssumptionResponse, AssumptionResponse.response_id == Response.id)
        .outerjoin(Assumption, Assumption.id == AssumptionResponse.assumption_id)
        .order_by(Assumption.position, AssumptionResponse.id)
    )


_CHECK_FACTS = DirectStatement(
    with_check_facts(
        select(User.id).where(User.id == bindparam("subject_id")),
        User.id,
        bindparam("norm_id"),
        bindparam("community_id"),
    )
)
_TIMELINE = DirectStatement(
    select(
        ExposureEvent.kind,
        ExposureEvent.level,
        ExposureEvent.version_number,
        ExposureEvent.created_at,
    )
    .where(
        ExposureEvent.user_id == bindparam("subject_id"),
        ExposureEvent.norm_id == bindparam("norm_id"),
    )
    .order_by(ExposureEvent.id.desc())
    .limit(bindparam("limit", type_=Integer))
)


def check_exposure(
    db: Session | DirectConnection,
    norm: Norm,
    subject: User,
    *,
    timeline_limit: int = TIMELINE_LIMIT,
    fact_rows: list | None = None,
) -> ExposureReport:
    """What ``subject`` has seen of ``norm``, in plain words first.

    Indexed lookups only: one query for membership, summary and latest
    response; the versions since the one seen only when stale; the
    prerequisite closure only when the norm builds on other norms; and a
    bounded timeline only when asked for.

    ``norm`` and ``subject`` may be ORM objects or the plain values the API
    resolves (``normhub.norms.refs.NormRef`` / ``PersonRef``): only their
    columns are read, never a relationship. ``fact_rows`` are the rows of a
    query built with ``with_check_facts``, when the caller fetched them already.
    """
    rows = fact_rows or _CHECK_FACTS.all(
        db,
        {"subject_id": subject.id, "norm_id": norm.id, "community_id": norm.community_id},
    )
    facts = rows[0]
    has_summary = facts.level is not None
    is_member = facts.membership_id is not None and facts.left_at is None
    level = facts.level if has_summary else NONE
    stale = has_summary and facts.material_base < norm.last_material_version_number
    report = ExposureReport(
        subject=subject,
        norm=norm,
        level=LEVELS[level],
        level_version=facts.level_version,
        latest_version_seen=facts.latest_version,
        current_version=norm.current_version_number,
        stale=stale and level > NONE,
        is_member=is_member,
        left_community=facts.membership_id is not None and facts.left_at is not None,
        left_at=facts.left_at,
        highest_level=LEVELS[facts.highest_level] if has_summary else "none",
        highest_level_version=facts.highest_level_version,
        first_seen_at=facts.first_seen_at,
        level_at=facts.level_at,
        last_seen_at=facts.last_seen_at,
    )
    if report.stale:
        report.material_changes_since = _material_changes(db, norm, facts.latest_version)

    if facts.response_id is not None:
        report.understood = facts.understood
        report.endorsement = facts.endorsement
        report.response_version = facts.response_version
        report.response_at = facts.response_at
        report.response_is_current = facts.response_version >= norm.last_material_version_number
        for row in rows:
            if row.position is None:
                continue  # a response without assumption answers
            item = {
                "position": row.position,
                "statement": row.statement,
                "understood": row.assumption_understood,
                "agreement": row.agreement,
                "reason": row.reason,
            }
            report.assumption_answers.append(item)
            if row.agreement == "disagree" and report.response_is_current:
                report.rejected_assumptions.append(
                    {k: item[k] for k in ("position", "statement", "reason")}
                )

    if facts.builds_on:
        report.unmet_prerequisites = unmet_prerequisites(db, norm, subject)
    if timeline_limit:
        report.timeline = _TIMELINE.all(
            db, {"subject_id": subject.id, "norm_id": norm.id, "limit": timeline_limit}
        )
    report.fully_exposed = (
        is_member and not stale and level >= EXPOSED and not report.unmet_prerequisites
    )
    report.answer = plain_answer(report)
    return report


# .values() gives each bind parameter its column's type.
_RECORD_CHECK = DirectStatement(
    insert(ExposureCheck).values(
        {
            column: bindparam(column)
            for column in (
                "checker_id",
                "subject_id",
                "norm_id",
                "created_at",
                "level",
                "stale",
                "answer",
            )
        }
    )
)


def record_check(
    db: Session | DirectConnection, checker: User, subject: User, norm: Norm, report: ExposureReport
) -> datetime:
    """Record that ``checker`` asked about ``subject``; returns when.

    A plain INSERT run as a DirectStatement (no unit of work, no RETURNING):
    it runs on every check. ``checks_about`` reads the stored checks.
    """
    created_at = utcnow()
    _RECORD_CHECK.execute(
        db,
        {
            "checker_id": checker.id,
            "subject_id": subject.id,
            "norm_id": norm.id,
            "created_at": created_at,
            "level": report.current_level,
            "stale": report.stale,
            "answer": report.answer[:1000],
        },
    )
    facts = {
        "checker_id": checker.id,
        "subject_id": subject.id,
        "norm_id": norm.id,
        "checked_at": created_at,
    }
    if isinstance(db, Session):
        events.publish(db, events.Exposure.CheckRecorded, **facts)
    else:
        events.publish_committed(events.Exposure.CheckRecorded, **facts)
    return created_at


def checks_about(
    session: Session, subject: User, viewer: User | None, limit: int = 200
) -> list[ExposureCheck]:
    """Checks made about ``subject``, newest first; only they (or a site admin) may look."""
    if viewer is None or (viewer.id != subject.id and not viewer.is_admin):
        raise Forbidden("Only the person checked can see the checks made about them.")
    return list(
        session.scalars(
            select(ExposureCheck)
            .where(ExposureCheck.subject_id == subject.id)
            .order_by(ExposureCheck.id.desc())
            .limit(limit)
            .options(
                selectinload(ExposureCheck.checker),
                selectinload(ExposureCheck.norm).selectinload(Norm.community),
            )
        )
    )
