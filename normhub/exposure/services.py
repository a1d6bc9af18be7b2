"""The exposure ledger and everything that reads it.

Levels, in order: none < delivered < opened < read < understood < endorsed.
Events: ``delivered`` (a digest or nudge reached the member), ``opened`` (the
norm page was shown to them), ``read`` (the page reported they reached the end
of the essay, or they pressed "I have read this"), ``responded`` (they recorded
a response: understood=yes gives "understood", understood=yes with endorse gives
"endorsed", understood=partly/no gives "read": they engaged but did not
understand; a member who understood and rejects is at "understood").

Staleness. Every version belongs to the "material family" of its newest
material ancestor. Exposure counts for the current version only if it was on
the current family: a minor revision keeps exposure, a material one makes it
stale until the member engages again.

"Fully exposed" to a norm means: an active member who has *read* (or better)
a version of the current material family, and the same, transitively, for
every open or in-force norm it builds on.

Visibility rules:

* An exposure check can be made by active members of the norm's community,
  about anyone; a subject who is not a member gets the answer "not a member"
  (or "left this community on …").
* Individual exposure and responses are visible to fellow active members of
  the community; aggregate coverage counts are visible to whoever can see the
  norm; the list of members not yet exposed, and nudging them, is for stewards.
* Nothing of a members-only community leaks to non-members: every page and API
  answer about it is a 404 for them.
* Every check is recorded, and the person checked sees every check made about
  them (who asked, about which norm, when, and the answer they got).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import Integer, and_, bindparam, case, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session, aliased, selectinload

from normhub import tokens
from normhub.accounts.models import User
from normhub.autocommit import DirectConnection, DirectStatement
from normhub.communities.models import Community, Membership
from normhub.communities.services import active_membership, is_steward
from normhub.db import dialect_insert, utcnow
from normhub.errors import Forbidden, NotFound, ValidationFailed
from normhub.exposure.models import (
    EVENT_KINDS,
    LEVEL_RANK,
    LEVELS,
    ExposureCheck,
    ExposureEvent,
    ExposureSummary,
    Nudge,
)
from normhub.norms.models import Assumption, Norm, NormPrerequisite, NormVersion
from normhub.responses.models import AssumptionResponse, Response

__all__ = [
    "LEVELS",
    "Coverage",
    "ExposureReport",
    "QueueItem",
    "check_attention_budget",
    "check_exposure",
    "checks_about",
    "coverage",
    "coverage_for_norms",
    "in_force_gate",
    "mark_nudges_delivered",
    "nudge",
    "pending_nudges",
    "read_report_token",
    "reading_queue",
    "record_check",
    "record_event",
    "record_read_report",
    "with_check_facts",
]

NONE, DELIVERED, OPENED, READ, UNDERSTOOD, ENDORSED = range(len(LEVELS))
EXPOSED = READ  # "fully exposed" means read or better on the current family
ACTIVE_STATUSES = ("open", "in_force")
# Reloading the page should not write a new ledger row each time.
OPENED_DEBOUNCE = timedelta(minutes=10)
TIMELINE_LIMIT = 50


# --------------------------------------------------------------------------- recording


def response_level(understood: str, endorsement: str) -> int:
    if understood != "yes":
        return READ
    return ENDORSED if endorsement == "endorse" else UNDERSTOOD


def _version_number(version: NormVersion | int) -> int:
    return version.number if isinstance(version, NormVersion) else int(version)


def _material_base(session: Session, norm: Norm, number: int) -> int:
    """The newest material version at or before ``number``."""
    if number >= norm.last_material_version_number:
        return norm.last_material_version_number
    base = session.scalar(
        select(func.max(NormVersion.number)).where(
            NormVersion.norm_id == norm.id,
            NormVersion.number <= number,
            NormVersion.is_material.is_(True),
        )
    )
    return base or number


def _locked_summary(session: Session, user_id: int, norm_id: int, at: datetime):
    """The (user, norm) summary row, created if missing, locked until commit.

    On PostgreSQL the insert waits for a concurrent insert of the same key and
    the FOR UPDATE serialises every event of one member on one norm; SQLite
    write transactions are already serialised (BEGIN IMMEDIATE).
    """
    insert = dialect_insert(session.get_bind().dialect.name)
    session.execute(
        insert(ExposureSummary)
        .values(
            user_id=user_id,
            norm_id=norm_id,
            first_seen_at=at,
            last_seen_at=at,
            latest_version=0,
            material_base=0,
            level=NONE,
            highest_level=NONE,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "norm_id"])
    )
    return session.execute(
        select(ExposureSummary)
        .where(ExposureSummary.user_id == user_id, ExposureSummary.norm_id == norm_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _apply(
    summary: ExposureSummary, number: int, base: int, level: int, kind: str, at: datetime
) -> None:
    summary.last_seen_at = max(summary.last_seen_at or at, at)
    summary.latest_version = max(summary.latest_version or 0, number)
    if level > summary.highest_level or (
        level == summary.highest_level and number > (summary.highest_level_version or 0)
    ):
        summary.highest_level = level
        summary.highest_level_version = number
        summary.highest_level_at = at
    if base > summary.material_base:
        # A newer material family: what was reached on older text no longer counts.
        summary.material_base = base
        summary.level, summary.level_version, summary.level_at = level, number, at
        return
    if base < summary.material_base:
        return
    if kind == "responded":
        # The newest response decides understood/endorsed; reading stays.
        new_level = max(min(summary.level, READ), level)
        if new_level == level:
            summary.level, summary.level_version, summary.level_at = level, number, at
        else:
            summary.level = new_level
    elif level > summary.level or (
        level == summary.level and number > (summary.level_version or 0)
    ):
        summary.level, summary.level_version, summary.level_at = level, number, at


def record_event(
    session: Session,
    user: User,
    norm: Norm,
    version: NormVersion | int,
    kind: str,
    at: datetime | None = None,
    *,
    response: Response | None = None,
) -> ExposureEvent | None:
    """Append one event to the ledger and update the member's summary with it.

    Returns None when the event adds nothing: a second "read" of the same
    version, or the same version "opened" again within a few minutes.
    For ``responded`` the level comes from ``response`` (default: the member's
    latest response to the norm).
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"Unknown exposure event kind {kind!r}")
    at = at or utcnow()
    number = _version_number(version)
    if kind == "responded":
        if response is None:
            response = session.scalar(
                select(Response)
                .where(Response.norm_id == norm.id, Response.user_id == user.id)
                .order_by(Response.id.desc())
                .limit(1)
            )
        if response is None:
            raise ValueError("A 'responded' event needs a response")
        level = response_level(response.understood, response.endorsement)
    else:
        level = LEVEL_RANK[kind]
    base = _material_base(session, norm, number)
    summary = _locked_summary(session, user.id, norm.id, at)
    if kind == "read" and session.scalar(
        select(ExposureEvent.id).where(
            ExposureEvent.user_id == user.id,
            ExposureEvent.norm_id == norm.id,
            ExposureEvent.version_number == number,
            ExposureEvent.kind == "read",
        )
    ):
        return None
    if (
        kind == "opened"
        and summary.latest_version == number
        and summary.material_base == base
        and summary.level >= OPENED
        and summary.last_seen_at is not None
        and at - summary.last_seen_at < OPENED_DEBOUNCE
    ):
        return None
    event = ExposureEvent(
        user_id=user.id,
        norm_id=norm.id,
        version_number=number,
        kind=kind,
        level=LEVELS[level],
        created_at=at,
    )
    session.add(event)
    _apply(summary, number, base, level, kind, at)
    session.flush()
    return event


def read_report_token(user: User, norm: Norm, version_number: int) -> str:
    """Signed proof that this page (norm, version) was rendered for this user."""
    claims = {"u": user.id, "n": norm.id, "v": int(version_number)}
    return tokens.sign(current_app.config["SECRET_KEY"], tokens.READ_REPORT, claims)


def record_read_report(
    session: Session, user: User | None, norm: Norm, version_number: Any, token: Any
) -> bool:
    """Record that ``user`` read ``version_number`` if the page's token vouches for it.

    Anything doubtful (forged, expired or someone else's token, an unknown
    version, a non-member, a repeat) is ignored: returns False, never raises.
    """
    if user is None or not isinstance(token, str) or not token:
        return False
    try:
        number = int(version_number)
        claims = tokens.verify(current_app.config["SECRET_KEY"], tokens.READ_REPORT, token)
    except (TypeError, ValueError, tokens.TokenExpired, tokens.TokenInvalid):
        return False
    if claims != {"u": user.id, "n": norm.id, "v": number}:
        return False
    if active_membership(session, norm.community, user) is None:
        return False
    version = session.scalar(
        select(NormVersion).where(NormVersion.norm_id == norm.id, NormVersion.number == number)
    )
    if version is None:
        return False
    return record_event(session, user, norm, version, "read") is not None


# --------------------------------------------------------------------------- the check


def norm_ref(norm: Norm) -> dict:
    return {"id": norm.id, "slug": norm.slug, "title": norm.title}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


@dataclass
class ExposureReport:
    subject: User
    norm: Norm
    level: str
    level_version: int | None
    latest_version_seen: int | None
    current_version: int
    stale: bool
    is_member: bool
    left_community: bool
    left_at: datetime | None
    highest_level: str
    highest_level_version: int | None
    first_seen_at: datetime | None
    level_at: datetime | None
    last_seen_at: datetime | None
    material_changes_since: list[dict] = field(default_factory=list)
    understood: str | None = None
    endorsement: str | None = None
    response_version: int | None = None
    response_at: datetime | None = None
    response_is_current: bool = False
    assumption_answers: list[dict] = field(default_factory=list)
    rejected_assumptions: list[dict] = field(default_factory=list)
    unmet_prerequisites: list = field(default_factory=list)  # rows: id, slug, title, status
    timeline: list = field(default_factory=list)  # rows: kind, level, version_number, created_at
    fully_exposed: bool = False
    answer: str = ""

    @property
    def current_level(self) -> str:
        """The level that counts for the current version ("none" when stale)."""
        return "none" if self.stale else self.level

    def to_dict(self) -> dict:
        return {
            "subject": {"id": self.subject.id, "display_name": self.subject.display_name},
            "norm": norm_ref(self.norm),
            "answer": self.answer,
            "level": self.level,
            "current_level": self.current_level,
            "level_version": self.level_version,
            "latest_version_seen": self.latest_version_seen,
            "current_version": self.current_version,
            "stale": self.stale,
            "fully_exposed": self.fully_exposed,
            "highest_level": self.highest_level,
            "highest_level_version": self.highest_level_version,
            "material_changes_since": self.material_changes_since,
            "understood": self.understood,
            "endorsement": self.endorsement,
            "response_version": self.response_version,
            "response_at": _iso(self.response_at),
            "response_is_current": self.response_is_current,
            "assumption_answers": self.assumption_answers,
            "rejected_assumptions": self.rejected_assumptions,
            "unmet_prerequisites": [norm_ref(n) for n in self.unmet_prerequisites],
            "is_member": self.is_member,
            "left_community": self.left_community,
            "left_at": _iso(self.left_at),
            "first_seen_at": _iso(self.first_seen_at),
            "level_at": _iso(self.level_at),
            "last_seen_at": _iso(self.last_seen_at),
            "timeline": [
                {
                    "kind": e.kind,
                    "level": e.level,
                    "version": e.version_number,
                    "at": _iso(e.created_at),
                }
                for e in self.timeline
            ],
        }


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
                "created_at": _iso(version.created_at),
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


def _answer(report: ExposureReport) -> str:
    name = report.subject.display_name
    current = report.current_version
    if not report.is_member:
        if report.left_community and report.left_at is not None:
            sentence = f"{name} left this community on {report.left_at:%Y-%m-%d}."
            if report.level_version is not None and LEVEL_RANK[report.level] >= READ:
                sentence += (
                    f" Before leaving, they had reached “{report.level}”"
                    f" on version {report.level_version}."
                )
            return sentence
        return f"{name} is not a member of this community."
    level = LEVEL_RANK[report.level]
    if report.stale and level >= OPENED:
        verb = {OPENED: "opened", READ: "read"}.get(level, "read and responded to")
        changes = "; ".join(
            f"v{c['number']}: {c['change_summary']}"
            for c in report.material_changes_since
            if c["change_summary"]
        )
        text = (
            f"{name} {verb} version {report.level_version}, but the norm has changed "
            f"materially since (now version {current})"
        )
        return text + (f": {changes}" if changes else ".")
    if level == NONE or report.stale:
        return (
            f"{name} has never opened this norm. "
            "Consider sharing it with them instead of calling them out."
        )
    if level == DELIVERED:
        return (
            f"{name} was sent this norm (version {report.level_version}) but has never "
            "opened it. Consider sharing it with them instead of calling them out."
        )
    if level == OPENED:
        return f"{name} opened version {report.level_version} but has not read it to the end."
    prerequisites = ""
    if report.unmet_prerequisites:
        titles = ", ".join(f"“{n.title}”" for n in report.unmet_prerequisites)
        prerequisites = f" It builds on norms they have not read: {titles}."
    if level == READ:
        if report.response_is_current and report.understood in ("partly", "no"):
            how = (
                "only partly understood" if report.understood == "partly" else "did not understand"
            )
            return (
                f"{name} read version {report.level_version} but said they {how} it.{prerequisites}"
            )
        return (
            f"{name} read version {report.level_version} but has not said whether they "
            f"understood it.{prerequisites}"
        )
    if report.rejected_assumptions:
        parts = "; ".join(
            f"assumption {a['position']}: “{a['statement'].rstrip('.')}”"
            for a in report.rejected_assumptions
        )
        text = f"{name} understood this norm and rejects {parts}."
        if report.endorsement == "endorse":
            text += " They endorse the norm nonetheless."
        elif report.endorsement == "reject":
            text += " They reject the norm as a whole."
        return text + prerequisites
    if report.endorsement == "endorse":
        return f"{name} understood and endorses this norm.{prerequisites}"
    if report.endorsement == "reject":
        return f"{name} understood this norm and rejects it.{prerequisites}"
    return f"{name} understood this norm and is undecided about endorsing it.{prerequisites}"


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
    resolves (``normhub.api.services.NormRef`` / ``PersonRef``): only their
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
    report.answer = _answer(report)
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


# --------------------------------------------------------------------------- prerequisites


# --------------------------------------------------------------------------- coverage


@dataclass
class Coverage:
    """How far the community has come with the *current* version of a norm.

    Counting rule: each active member counts once, at the level they reached
    on the current material family (see the module docstring). A member whose
    exposure is on an older material version counts as "none" for the current
    version, and is also counted in ``stale`` so the page can say how many
    have seen an older text. "Understood" means understood or endorsed.
    """

    norm: Norm
    active_members: int
    levels: dict[str, int]
    stale: int
    responses: int
    threshold_pct: int
    min_responses: int

    @property
    def understood(self) -> int:
        return self.levels["understood"] + self.levels["endorsed"]

    @property
    def exposed(self) -> int:
        return sum(self.levels[name] for name in LEVELS[EXPOSED:])

    @property
    def understood_pct(self) -> int:
        return self.understood * 100 // self.active_members if self.active_members else 0

    @property
    def members_needed(self) -> int:
        return -(-self.threshold_pct * self.active_members // 100)

    @property
    def more_members_needed(self) -> int:
        return max(0, self.members_needed - self.understood)

    @property
    def more_responses_needed(self) -> int:
        return max(0, self.min_responses - self.responses)

    @property
    def gap(self) -> int:
        """How many more people must act before the gate opens."""
        return max(self.more_members_needed, self.more_responses_needed)

    @property
    def meets_threshold(self) -> bool:
        return (
            self.active_members > 0
            and self.more_members_needed == 0
            and self.more_responses_needed == 0
        )

    def share(self, level: str) -> int:
        return self.levels[level] * 100 // self.active_members if self.active_members else 0

    @property
    def shortfall_message(self) -> str:
        more = self.more_members_needed
        members = (
            f"{self.understood_pct}% of members understood the current version; "
            f"{self.threshold_pct}% needed"
        )
        if more:
            members += f" ({more} more member{'s' if more != 1 else ''})"
        responses = f"{self.responses} response{'s' if self.responses != 1 else ''}"
        return f"{members}. {responses}; {self.min_responses} needed."

    def to_dict(self) -> dict:
        return {
            "norm": norm_ref(self.norm),
            "current_version": self.norm.current_version_number,
            "active_members": self.active_members,
            "levels": dict(self.levels),
            "stale": self.stale,
            "understood": self.understood,
            "understood_pct": self.understood_pct,
            "responses": self.responses,
            "threshold_pct": self.threshold_pct,
            "min_responses": self.min_responses,
            "more_members_needed": self.more_members_needed,
            "more_responses_needed": self.more_responses_needed,
            "meets_threshold": self.meets_threshold,
            "shortfall_message": self.shortfall_message,
        }


def _current_level_expr():
    return case(
        (ExposureSummary.material_base >= Norm.last_material_version_number, ExposureSummary.level),
        else_=NONE,
    )


def coverage_for_norms(session: Session, norms: list[Norm]) -> dict[int, Coverage]:
    """Coverage of several norms: two GROUP BY queries, whatever the number of members."""
    if not norms:
        return {}
    ids = [n.id for n in norms]
    per_member = (
        select(
            Norm.id.label("norm_id"),
            func.coalesce(_current_level_expr(), NONE).label("level"),
            case(
                (
                    and_(
                        ExposureSummary.material_base < Norm.last_material_version_number,
                        ExposureSummary.level > NONE,
                    ),
                    1,
                ),
                else_=0,
            ).label("stale"),
        )
        .join(
            Membership,
            and_(Membership.community_id == Norm.community_id, Membership.left_at.is_(None)),
        )
        .outerjoin(
            ExposureSummary,
            and_(
                ExposureSummary.norm_id == Norm.id,
                ExposureSummary.user_id == Membership.user_id,
            ),
        )
        .where(Norm.id.in_(ids))
        .subquery()
    )
    counts = session.execute(
        select(per_member.c.norm_id, per_member.c.level, per_member.c.stale, func.count()).group_by(
            per_member.c.norm_id, per_member.c.level, per_member.c.stale
        )
    ).all()
    responders = dict(
        session.execute(
            select(Response.norm_id, func.count(func.distinct(Response.user_id)))
            .join(NormVersion, NormVersion.id == Response.version_id)
            .join(Norm, Norm.id == Response.norm_id)
            .join(
                Membership,
                and_(
                    Membership.community_id == Norm.community_id,
                    Membership.user_id == Response.user_id,
                    Membership.left_at.is_(None),
                ),
            )
            .where(
                Response.norm_id.in_(ids),
                NormVersion.number >= Norm.last_material_version_number,
            )
            .group_by(Response.norm_id)
        ).all()
    )
    result = {}
    for norm in norms:
        community = norm.community
        result[norm.id] = Coverage(
            norm=norm,
            active_members=0,
            levels=dict.fromkeys(LEVELS, 0),
            stale=0,
            responses=responders.get(norm.id, 0),
            threshold_pct=community.coverage_threshold_pct,
            min_responses=community.coverage_min_responses,
        )
    for norm_id, level, stale, count in counts:
        item = result[norm_id]
        item.active_members += count
        item.levels[LEVELS[level]] += count
        item.stale += count if stale else 0
    return result


def coverage(session: Session, norm: Norm) -> Coverage:
    return coverage_for_norms(session, [norm])[norm.id]


def unexposed_members(
    session: Session, norm: Norm, limit: int | None = None
) -> list[tuple[User, str]]:
    """Active members who have not read the current version, with their level on it."""
    query = (
        select(User, ExposureSummary)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(
            ExposureSummary,
            and_(ExposureSummary.user_id == User.id, ExposureSummary.norm_id == norm.id),
        )
        .where(
            Membership.community_id == norm.community_id,
            Membership.left_at.is_(None),
            or_(
                ExposureSummary.user_id.is_(None),
                ExposureSummary.material_base < norm.last_material_version_number,
                ExposureSummary.level < EXPOSED,
            ),
        )
        .order_by(func.lower(User.display_name), User.id)
    )
    rows = session.execute(query.limit(limit) if limit is not None else query).all()
    result = []
    for user, summary in rows:
        if summary is None or summary.level == NONE:
            state = "never opened"
        elif summary.material_base < norm.last_material_version_number:
            state = f"saw version {summary.latest_version} (older text)"
        else:
            state = f"{LEVELS[summary.level]} version {summary.level_version}"
        result.append((user, state))
    return result


def in_force_gate(session: Session, norm: Norm) -> Coverage:
    """Refuse to put ``norm`` in force until enough members understood the current version."""
    result = coverage(session, norm)
    if not result.meets_threshold:
        raise ValidationFailed(
            "Not enough of the community has understood this version yet. "
            + result.shortfall_message
        )
    return result


def check_attention_budget(session: Session, norm: Norm) -> None:
    """Refuse to open ``norm`` when the community (or its author) has too many open norms."""
    community = session.execute(
        select(Community).where(Community.id == norm.community_id).with_for_update()
    ).scalar_one()
    if community.max_open_norms is None and community.max_open_per_author is None:
        return
    open_norms = select(func.count(Norm.id)).where(
        Norm.community_id == community.id, Norm.status == "open", Norm.id != norm.id
    )
    if community.max_open_norms is not None:
        count = session.scalar(open_norms) or 0
        if count >= community.max_open_norms:
            raise ValidationFailed(
                f"This community already has {count} norms open for discussion, its limit "
                f"({community.max_open_norms}). Members' attention is finite: wait until one "
                "is decided or withdrawn."
            )
    if community.max_open_per_author is not None:
        count = session.scalar(open_norms.where(Norm.author_id == norm.author_id)) or 0
        if count >= community.max_open_per_author:
            raise ValidationFailed(
                f"The author already has {count} norms open for discussion here, the limit "
                f"per author ({community.max_open_per_author}). Wait until one is decided "
                "or withdrawn."
            )


# --------------------------------------------------------------------------- reading queue


class QueueItem(NamedTuple):
    norm: Norm
    reason: str  # "unread" | "opened" | "stale"
    coverage_gap: int


def reading_queue(
    session: Session, user: User, community: Community | None = None, limit: int | None = None
) -> list[QueueItem]:
    """Open and in-force norms of ``user``'s communities they have not read as they stand now.

    Reasons: "unread" (never opened the current text), "opened" (opened, not
    finished), "stale" (read an older text that has changed materially since).
    Norms the user wrote are left out. Open norms come first, closest to the
    in-force gate first; ties go to the most recently active.
    """
    my_communities = select(Membership.community_id).where(
        Membership.user_id == user.id, Membership.left_at.is_(None)
    )
    query = (
        select(Norm, ExposureSummary)
        .outerjoin(
            ExposureSummary,
            and_(ExposureSummary.norm_id == Norm.id, ExposureSummary.user_id == user.id),
        )
        .where(
            Norm.community_id.in_(my_communities),
            Norm.status.in_(ACTIVE_STATUSES),
            Norm.author_id != user.id,  # they wrote it; their response is asked elsewhere
            or_(
                ExposureSummary.user_id.is_(None),
                ExposureSummary.material_base < Norm.last_material_version_number,
                ExposureSummary.level < EXPOSED,
            ),
        )
        .options(selectinload(Norm.community))
    )
    if community is not None:
        query = query.where(Norm.community_id == community.id)
    rows = session.execute(query).all()
    gaps = coverage_for_norms(session, [norm for norm, _ in rows])
    items = []
    for norm, summary in rows:
        if summary is None or summary.level == NONE:
            reason = "unread"
        elif summary.material_base < norm.last_material_version_number:
            reason = "stale" if summary.level >= READ else "unread"
        else:
            reason = "opened" if summary.level >= OPENED else "unread"
        items.append(QueueItem(norm, reason, gaps[norm.id].gap))
    items.sort(
        key=lambda item: (
            item.norm.status != "open",
            item.coverage_gap,
            -item.norm.last_activity_at.timestamp(),
            item.norm.id,
        )
    )
    return items[:limit] if limit is not None else items


# --------------------------------------------------------------------------- nudges


def nudge(
    session: Session, steward: User, norm: Norm, members: list[User] | None = None
) -> list[Nudge]:
    """Queue a reminder for each of ``members`` (default: everyone) not yet exposed.

    Members who have read the current version, who are not active members, or
    who already have an undelivered nudge about this norm are skipped.
    """
    if not is_steward(active_membership(session, norm.community, steward), steward):
        raise Forbidden("Only stewards can nudge members.")
    if norm.status not in ACTIVE_STATUSES:
        raise ValidationFailed("Only norms open for discussion or in force can be nudged about.")
    candidates = {user.id for user, _ in unexposed_members(session, norm)}
    if members is not None:
        candidates &= {m.id for m in members}
    already = set(
        session.scalars(
            select(Nudge.member_id).where(
                Nudge.norm_id == norm.id,
                Nudge.delivered_at.is_(None),
                Nudge.member_id.in_(candidates),
            )
        )
    )
    created = [
        Nudge(norm_id=norm.id, member_id=member_id, created_by_id=steward.id)
        for member_id in sorted(candidates - already)
    ]
    session.add_all(created)
    session.flush()
    return created


def pending_nudges(session: Session, user_ids: list[int]) -> list[Nudge]:
    """Undelivered nudges for these users, about norms still open or in force."""
    if not user_ids:
        return []
    return list(
        session.scalars(
            select(Nudge)
            .join(Norm, Norm.id == Nudge.norm_id)
            .where(
                Nudge.member_id.in_(user_ids),
                Nudge.delivered_at.is_(None),
                Norm.status.in_(ACTIVE_STATUSES),
            )
            .order_by(Nudge.member_id, Nudge.id)
            .options(
                selectinload(Nudge.norm).selectinload(Norm.community),
                selectinload(Nudge.created_by),
            )
        )
    )


def mark_nudges_delivered(
    session: Session, nudge_ids: list[int], at: datetime | None = None
) -> int:
    if not nudge_ids:
        return 0
    result = session.execute(
        update(Nudge)
        .where(Nudge.id.in_(list(nudge_ids)), Nudge.delivered_at.is_(None))
        .values(delivered_at=at or utcnow())
    )
    session.flush()
    return result.rowcount or 0


def get_norm_by_id(session: Session, norm_id: int) -> Norm:
    norm = session.get(Norm, norm_id)
    if norm is None:
        raise NotFound("No such norm.")
    return norm
