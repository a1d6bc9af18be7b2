"""Where a person stands with a norm: the facts, and the answer in plain words.

No database here: ``normhub.exposure.standing`` gathers the facts and fills
the ``Standing``; the answer is worded from it alone, in a fixed order: the
norm's state, the deepest engagement and what changed since, the stance,
unmet prerequisites, and one recommended next step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from normhub.accounts.models import User
from normhub.db import utc_iso
from normhub.exposure.levels import NONE, READ, norm_ref
from normhub.exposure.models import LEVEL_RANK
from normhub.norms.models import Norm

# The recommended next step, first matching row wins (see ``standing.recommend``);
# each with the colour the page gives it, as the coverage verdict does.
RECOMMENDATION_TONES = {
    "not_member": "neutral",
    "not_in_force": "neutral",
    "share_norm": "short",
    "share_changes": "short",
    "remind": "short",
    "ask_understanding": "short",
    "ask_reread": "short",
    "discuss_assumptions": "short",
    "unmet_prerequisites": "short",
    "fair_to_hold": "meets",
}


class Recommendation(NamedTuple):
    code: str
    text: str

    @property
    def tone(self) -> str:
        return RECOMMENDATION_TONES[self.code]

    def to_dict(self) -> dict:
        return {"code": self.code, "text": self.text}


@dataclass(slots=True)
class Standing:
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
    norm_status: str = "draft"
    in_force_since: datetime | None = None
    # The version members are bound by, and a revision of it waiting for the gate.
    in_force_version: int | None = None
    pending_version: int | None = None
    authored_by_subject: bool = False
    as_of: datetime | None = None
    # The newest version they read, responded to or wrote (None: never).
    newest_read_version: int | None = None
    material_changes_since: list[dict] = field(default_factory=list)
    changes_since_read: list[dict] = field(default_factory=list)
    # (level, version) of what they did with versions after their deepest engagement.
    later_engagement: list[tuple[str, int]] = field(default_factory=list)
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
    # Exposure that ages (normhub.exposure.ageing): the period asked for (None: none),
    # who asks ("norm" or "community"), whole months since they last read the current
    # text, and whether that reading is older than the period.
    reread_months: int | None = None
    reread_asked_by: str | None = None
    months_since_read: int | None = None
    stale_by_age: bool = False
    recommendation: Recommendation | None = None
    answer: str = ""

    @property
    def reread_due_words(self) -> str:
        """ "Last read 14 months ago; this community asks for a re-read every 12"."""
        return reread_sentence(self)

    @property
    def reread_words(self) -> str:
        """The re-read line of the facts: due or not, and how long since the last reading."""
        if self.stale_by_age:
            return "due: " + reread_sentence(self)
        words = f"asked every {self.reread_months} months by the {self.reread_asked_by}"
        if self.months_since_read is not None:
            words += f"; last read {months_words(self.months_since_read)} ago"
        return words

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
            "stale_by_age": self.stale_by_age,
            "reread_months": self.reread_months,
            "reread_asked_by": self.reread_asked_by,
            "months_since_read": self.months_since_read,
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
            "norm_status": self.norm_status,
            "in_force_since": utc_iso(self.in_force_since),
            "in_force_version": self.in_force_version,
            "pending_version": self.pending_version,
            "authored_by_subject": self.authored_by_subject,
            "changes_since_read": self.changes_since_read,
            "recommendation": self.recommendation.to_dict() if self.recommendation else None,
            "as_of": utc_iso(self.as_of),
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


# -- The answer, part by part ------------------------------------------------------

_STATE = {
    "draft": "This norm is a draft: nobody is bound by it yet.",
    "open": "This norm is open for discussion: nobody is bound by it yet.",
    "retired": "This norm is retired: nobody is bound by it any more.",
    "withdrawn": "This norm was withdrawn: nobody is bound by it.",
}
_DONE = {  # what someone did with a version, at each level
    "delivered": "was sent version {v} but has not opened it",
    "opened": "opened version {v} but has not read it to the end",
    "read": "read version {v}",
    "understood": "read and understood version {v}",
    "endorsed": "read and endorsed version {v}",
}


def state_sentence(standing: Standing) -> str:
    if standing.current_version == 0:
        return "This norm did not exist yet."
    if standing.norm_status != "in_force":
        return _STATE[standing.norm_status]
    since = standing.in_force_since
    sentence = f"This norm has been in force since {since:%Y-%m-%d}." if since else "In force."
    if standing.pending_version is not None:
        sentence += (
            f" Version {standing.in_force_version} is in force; version "
            f"{standing.pending_version} is proposed and not in force until enough of the "
            "community has read it, so this answer is about version "
            f"{standing.in_force_version}."
        )
    return sentence


def _membership_sentence(standing: Standing) -> str:
    name = standing.subject.display_name
    if standing.left_community and standing.left_at is not None:
        sentence = f"{name} left this community on {standing.left_at:%Y-%m-%d}."
        if standing.level_version is not None and LEVEL_RANK[standing.level] >= READ:
            sentence += (
                f" Before leaving, they had reached “{standing.level}”"
                f" on version {standing.level_version}."
            )
        return sentence
    if standing.as_of is not None:
        return f"{name} was not a member of this community then."
    return f"{name} is not a member of this community."


def _engagement_sentences(standing: Standing) -> list[str]:
    """The deepest engagement, what changed since their newest reading, and what came after."""
    name = standing.subject.display_name
    deepest = LEVEL_RANK[standing.highest_level]
    sentences = []
    if standing.authored_by_subject:
        sentences.append(f"{name} wrote this norm.")
    if deepest == NONE:
        sentences.append(f"{name} has never opened this norm.")
    else:
        done = _DONE[standing.highest_level].format(v=standing.highest_level_version)
        sentences.append(f"{name} {done}.")
    if standing.changes_since_read:
        listed = "; ".join(
            f"v{c['number']}: {c['change_summary'].rstrip('.')}"
            for c in standing.changes_since_read
            if c["change_summary"]
        )
        sentences.append(
            f"The norm has changed materially since version {standing.newest_read_version} "
            f"(now version {standing.current_version})" + (f": {listed}." if listed else ".")
        )
    for level, version in standing.later_engagement:
        sentences.append(f"Then {name} {_DONE[level].format(v=version)}.")
    if standing.stale_by_age:
        sentences.append(reread_sentence(standing) + ".")
    return sentences


def months_words(months: int) -> str:
    return "less than a month" if months == 0 else f"{months} month{'s' if months != 1 else ''}"


def reread_sentence(standing: Standing) -> str:
    """ "Last read 14 months ago; this community asks for a re-read every 12"."""
    return (
        f"Last read {months_words(standing.months_since_read or 0)} ago; "
        f"this {standing.reread_asked_by} asks for a re-read every {standing.reread_months}"
    )


def _stance_sentences(standing: Standing) -> list[str]:
    if standing.understood is None:
        if standing.authored_by_subject:
            return ["Writing it counts as reading and endorsing it."]
        if LEVEL_RANK[standing.current_level] == READ:
            return ["They have not said whether they understood it."]
        return []
    on = f"On version {standing.response_version}"
    if not standing.response_is_current:
        on += " (an older text)"
    if standing.understood == "yes":
        stance = {"endorse": "endorse it", "reject": "reject it"}.get(
            standing.endorsement, "are undecided about endorsing it"
        )
    else:
        stance = (
            "only partly understood it"
            if standing.understood == "partly"
            else ("did not understand it")
        )
    sentences = [f"{on} they said they {stance}."]
    disagreements = [a for a in standing.assumption_answers if a["agreement"] == "disagree"]
    if disagreements:
        parts = "; ".join(
            f"assumption {a['position']} of version {standing.response_version}: "
            f"“{a['statement'].rstrip('.')}”"
            for a in disagreements
        )
        sentences.append(f"They reject {parts}.")
    return sentences


def _prerequisites_sentence(standing: Standing) -> list[str]:
    if not standing.unmet_prerequisites:
        return []
    titles = ", ".join(f"“{n.title}”" for n in standing.unmet_prerequisites)
    return [f"It builds on norms they have not read: {titles}."]


def plain_answer(standing: Standing) -> str:
    """The whole answer, for the person who asked, in the order a moderator acts on."""
    parts = [state_sentence(standing)]
    if standing.is_member:
        parts += _engagement_sentences(standing)
        parts += _stance_sentences(standing)
        parts += _prerequisites_sentence(standing)
    else:
        parts.append(_membership_sentence(standing))
    if standing.recommendation is not None:
        parts.append(standing.recommendation.text)
    return " ".join(parts)


_RECOMMENDATION_TEXTS = {
    "not_member": "{name} is not bound by this community's norms: don't hold them to it.",
    "not_in_force": "Discuss it with them, don't enforce it.",
    "share_norm": (
        "Share the norm with {name} instead of calling them out: they have not opened it."
    ),
    "share_changes": (
        "Share what changed since version {read} with {name} "
        "before holding them to the current text."
    ),
    "remind": (
        "A reminder to read the current text is fair; a call-out is not: {name} has not read it."
    ),
    "ask_reread": (
        "Ask {name} to read it again before holding them to it: their reading is older "
        "than the re-read period."
    ),
    "ask_understanding": "Ask {name} whether they understood it before holding them to it.",
    "discuss_assumptions": "Answer {name}'s reasons for rejecting it before enforcing it.",
    "unmet_prerequisites": (
        "Point {name} to the norms this one builds on first: they have not read them."
    ),
    "fair_to_hold": (
        "It is fair to hold {name} to this norm: they understood the current text "
        "and have read what it builds on."
    ),
}


def recommendation_text(code: str, standing: Standing) -> str:
    return _RECOMMENDATION_TEXTS[code].format(
        name=standing.subject.display_name, read=standing.newest_read_version
    )
