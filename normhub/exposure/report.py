"""What an exposure check answers: the report, and the sentence that leads it.

No database here: ``normhub.exposure.check`` gathers the facts and fills the
report; the answer text is worded from the report alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from normhub.accounts.models import User
from normhub.exposure.levels import DELIVERED, NONE, OPENED, READ, norm_ref
from normhub.exposure.models import LEVEL_RANK
from normhub.norms.models import Norm


def utc_iso(value: datetime | None) -> str | None:
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
            "response_at": utc_iso(self.response_at),
            "response_is_current": self.response_is_current,
            "assumption_answers": self.assumption_answers,
            "rejected_assumptions": self.rejected_assumptions,
            "unmet_prerequisites": [norm_ref(n) for n in self.unmet_prerequisites],
            "is_member": self.is_member,
            "left_community": self.left_community,
            "left_at": utc_iso(self.left_at),
            "first_seen_at": utc_iso(self.first_seen_at),
            "level_at": utc_iso(self.level_at),
            "last_seen_at": utc_iso(self.last_seen_at),
            "timeline": [
                {
                    "kind": e.kind,
                    "level": e.level,
                    "version": e.version_number,
                    "at": utc_iso(e.created_at),
                }
                for e in self.timeline
            ],
        }


def plain_answer(report: ExposureReport) -> str:
    """The report in one or two sentences, for the person who asked."""
    if not report.is_member:
        return _not_member_answer(report)
    level = LEVEL_RANK[report.level]
    if report.stale or level < READ:
        return _not_read_answer(report, level)
    prerequisites = _unread_prerequisites(report)
    if level == READ:
        return _read_answer(report) + prerequisites
    return _understood_answer(report) + prerequisites


def _not_member_answer(report: ExposureReport) -> str:
    name = report.subject.display_name
    if report.left_community and report.left_at is not None:
        sentence = f"{name} left this community on {report.left_at:%Y-%m-%d}."
        if report.level_version is not None and LEVEL_RANK[report.level] >= READ:
            sentence += (
                f" Before leaving, they had reached “{report.level}”"
                f" on version {report.level_version}."
            )
        return sentence
    return f"{name} is not a member of this community."


def _not_read_answer(report: ExposureReport, level: int) -> str:
    """A member who has not read the current material family (stale, or not that far)."""
    name = report.subject.display_name
    if report.stale and level >= OPENED:
        verb = {OPENED: "opened", READ: "read"}.get(level, "read and responded to")
        changes = "; ".join(
            f"v{c['number']}: {c['change_summary']}"
            for c in report.material_changes_since
            if c["change_summary"]
        )
        text = (
            f"{name} {verb} version {report.level_version}, but the norm has changed "
            f"materially since (now version {report.current_version})"
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
    return f"{name} opened version {report.level_version} but has not read it to the end."


def _unread_prerequisites(report: ExposureReport) -> str:
    if not report.unmet_prerequisites:
        return ""
    titles = ", ".join(f"“{n.title}”" for n in report.unmet_prerequisites)
    return f" It builds on norms they have not read: {titles}."


def _read_answer(report: ExposureReport) -> str:
    name = report.subject.display_name
    if report.response_is_current and report.understood in ("partly", "no"):
        how = "only partly understood" if report.understood == "partly" else "did not understand"
        return f"{name} read version {report.level_version} but said they {how} it."
    return (
        f"{name} read version {report.level_version} but has not said whether they understood it."
    )


def _understood_answer(report: ExposureReport) -> str:
    name = report.subject.display_name
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
        return text
    if report.endorsement == "endorse":
        return f"{name} understood and endorses this norm."
    if report.endorsement == "reject":
        return f"{name} understood this norm and rejects it."
    return f"{name} understood this norm and is undecided about endorsing it."
