"""Norm proposals: creation, versioned revision, lifecycle."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from normhub import events, policy
from normhub.accounts.models import User
from normhub.communities.models import Community
from normhub.communities.services import active_membership, is_steward, slugify
from normhub.db import utcnow
from normhub.errors import Forbidden, NotFound, ValidationFailed
from normhub.ids import parse_id
from normhub.norms.models import (
    BODY_MAX,
    CHANGE_SUMMARY_MAX,
    EXPLANATION_MAX,
    STATEMENT_MAX,
    SUMMARY_MAX,
    TAG_MAX,
    TITLE_MAX,
    Assumption,
    Norm,
    NormPrerequisite,
    NormTag,
    NormVersion,
    StatusChange,
)
from normhub.text import has_nul, require_plain_text, without_bidi_controls

MAX_ASSUMPTIONS = 30
# What an editor says a revision is: material (the meaning changed, so earlier
# reads are stale) or minor (wording). Nothing else is either.
SIGNIFICANCES = {"material": True, "minor": False}
SIGNIFICANCE_REQUIRED = (
    "Say whether the change is material (the meaning changed) or minor (wording only)."
)
MAX_TAGS = 10
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")

# Who may move a norm where. "author" means the author or a steward.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "open"): "author",
    ("open", "draft"): "author",
    ("open", "in_force"): "steward",
    ("in_force", "retired"): "steward",
    # Puts a materially revised version in force, through the same gate.
    ("in_force", "in_force"): "steward",
    ("draft", "withdrawn"): "author",
    ("open", "withdrawn"): "author",
}


@dataclass(frozen=True)
class AssumptionInput:
    statement: str
    explanation: str = ""
    # The cross-version key of the assumption this one continues, if any.
    key: int | None = None


@dataclass(frozen=True)
class NormDraft:
    title: str
    summary: str
    body: str
    assumptions: list[AssumptionInput]
    tags: list[str]


def _check_plain_text(draft: NormDraft) -> None:
    require_plain_text(draft.title, "Title", field="title")
    require_plain_text(draft.summary, "Summary", field="summary", multiline=True)
    require_plain_text(draft.body, "The essay", field="body", multiline=True)
    for position, item in enumerate(draft.assumptions, start=1):
        label = f"Assumption {position}"
        require_plain_text(item.statement, label, field="assumptions")
        require_plain_text(
            item.explanation,
            f"The explanation of {label.lower()}",
            field="assumptions",
            multiline=True,
        )


def _clean_draft(draft: NormDraft) -> NormDraft:
    _check_plain_text(draft)
    title = " ".join(without_bidi_controls(draft.title).split())
    summary = draft.summary.strip()
    body = draft.body.strip()
    if not title:
        raise ValidationFailed("Title is required.", field="title")
    if len(title) > TITLE_MAX:
        raise ValidationFailed(f"Title must be at most {TITLE_MAX} characters.", field="title")
    if not summary:
        raise ValidationFailed("Summary is required.", field="summary")
    if len(summary) > SUMMARY_MAX:
        raise ValidationFailed(
            f"Summary must be at most {SUMMARY_MAX} characters.", field="summary"
        )
    if not body:
        raise ValidationFailed("The essay is required.", field="body")
    if len(body) > BODY_MAX:
        raise ValidationFailed(f"The essay must be at most {BODY_MAX} characters.", field="body")
    assumptions = []
    for position, item in enumerate(draft.assumptions, start=1):
        statement = " ".join(item.statement.split())
        explanation = item.explanation.strip()
        if not statement and not explanation:
            continue
        if not statement:
            raise ValidationFailed(
                f"Assumption {position} has an explanation but no statement.", field="assumptions"
            )
        if len(statement) > STATEMENT_MAX:
            raise ValidationFailed(
                f"Assumption {position} must be at most {STATEMENT_MAX} characters.",
                field="assumptions",
            )
        if len(explanation) > EXPLANATION_MAX:
            raise ValidationFailed(
                f"The explanation of assumption {position} must be at most "
                f"{EXPLANATION_MAX} characters.",
                field="assumptions",
            )
        assumptions.append(AssumptionInput(statement, explanation, item.key))
    if not assumptions:
        raise ValidationFailed(
            "State at least one assumption: what must be true for this norm to make sense?",
            field="assumptions",
        )
    if len(assumptions) > MAX_ASSUMPTIONS:
        raise ValidationFailed(
            f"At most {MAX_ASSUMPTIONS} assumptions, please.", field="assumptions"
        )
    return NormDraft(title, summary, body, assumptions, clean_tags(draft.tags))


def clean_tags(tags: list[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in tags:
        tag = without_bidi_controls(raw).strip().lower().lstrip("#")
        if not tag:
            continue
        tag = re.sub(r"\s+", "-", tag)
        if len(tag) > TAG_MAX or not TAG_RE.match(tag):
            raise ValidationFailed(
                f"Tag “{raw.strip()}” must be lowercase letters, digits and dashes, "
                f"at most {TAG_MAX} characters.",
                field="tags",
            )
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValidationFailed(f"At most {MAX_TAGS} tags, please.", field="tags")
    return cleaned


def parse_tags(text: str) -> list[str]:
    return [part for part in re.split(r"[,\s]+", text or "") if part.strip()]


def _unique_slug(session: Session, community: Community, title: str) -> str:
    base = slugify(title, max_length=70)
    slug, n = base, 2
    while session.scalar(
        select(Norm.id).where(Norm.community_id == community.id, Norm.slug == slug)
    ):
        slug, n = f"{base}-{n}", n + 1
    return slug


def can_propose(session: Session, community: Community, user: User | None) -> bool:
    membership = active_membership(session, community, user)
    return policy.allows("norm.propose", membership, user)


def can_edit(session: Session, norm: Norm, user: User | None) -> bool:
    if user is None or norm.status in ("retired", "withdrawn"):
        return False
    membership = active_membership(session, norm.community, user)
    return policy.allows("norm.edit", membership, user, is_author=norm.author_id == user.id)


def _add_version(
    session: Session,
    norm: Norm,
    editor: User,
    draft: NormDraft,
    number: int,
    change_summary: str,
    is_material: bool,
) -> NormVersion:
    require_plain_text(change_summary, "What changed", field="change_summary")
    if len(change_summary) > CHANGE_SUMMARY_MAX:
        raise ValidationFailed(
            f"Change summary must be at most {CHANGE_SUMMARY_MAX} characters.",
            field="change_summary",
        )
    previous_keys = (
        set(
            session.scalars(
                select(Assumption.key).join(NormVersion).where(NormVersion.norm_id == norm.id)
            )
        )
        if norm.id
        else set()
    )
    next_key = max(previous_keys, default=0) + 1
    version = NormVersion(
        norm_id=norm.id,
        number=number,
        title=draft.title,
        summary=draft.summary,
        body=draft.body,
        editor_id=editor.id,
        change_summary=change_summary.strip(),
        is_material=is_material,
    )
    used: set[int] = set()
    for position, item in enumerate(draft.assumptions, start=1):
        key = item.key if item.key in previous_keys and item.key not in used else None
        if key is None:
            key, next_key = next_key, next_key + 1
        used.add(key)
        version.assumptions.append(
            Assumption(
                key=key, position=position, statement=item.statement, explanation=item.explanation
            )
        )
    session.add(version)
    session.flush()
    norm.current_version_id = version.id
    norm.current_version_number = number
    if is_material:
        norm.last_material_version_number = number
    norm.title = draft.title
    norm.summary = draft.summary
    norm.last_activity_at = utcnow()
    return version


def _set_tags(norm: Norm, tags: list[str]) -> None:
    wanted = set(tags)
    norm.tags[:] = [t for t in norm.tags if t.tag in wanted]
    present = {t.tag for t in norm.tags}
    norm.tags.extend(NormTag(tag=tag) for tag in tags if tag not in present)


def create_norm(session: Session, community: Community, author: User, draft: NormDraft) -> Norm:
    if not can_propose(session, community, author):
        raise Forbidden("Only members of this community can propose norms.")
    draft = _clean_draft(draft)
    norm = Norm(
        community_id=community.id,
        slug=_unique_slug(session, community, draft.title),
        author_id=author.id,
        status="draft",
        title=draft.title,
        summary=draft.summary,
    )
    norm.community = community
    session.add(norm)
    session.flush()
    _set_tags(norm, draft.tags)
    _add_version(session, norm, author, draft, 1, "First version.", True)
    session.flush()
    events.publish(session, events.Norm.Proposed, norm=norm, author=author)
    return norm


def _same_text(version: NormVersion, draft: NormDraft) -> bool:
    old = [(a.key, a.statement, a.explanation) for a in version.assumptions]
    new = [(a.key, a.statement, a.explanation) for a in draft.assumptions]
    return (version.title, version.summary, version.body, old) == (
        draft.title,
        draft.summary,
        draft.body,
        new,
    )


def parse_significance(value: str | None) -> bool:
    """True for "material", False for "minor"; anything else is refused."""
    if value not in SIGNIFICANCES:
        raise ValidationFailed(SIGNIFICANCE_REQUIRED, field="significance")
    return SIGNIFICANCES[value]


def revise_norm(
    session: Session,
    norm: Norm,
    editor: User,
    draft: NormDraft,
    change_summary: str,
    is_material: bool,
) -> NormVersion | None:
    """Save an edit. Returns the new version, or None if only the tags changed."""
    if not isinstance(is_material, bool):
        # Not truthiness: "minor" or "no" must not make a material revision.
        raise ValidationFailed(SIGNIFICANCE_REQUIRED, field="significance")
    if not can_edit(session, norm, editor):
        raise Forbidden("Only the author or a steward can edit this norm.")
    draft = _clean_draft(draft)
    _set_tags(norm, draft.tags)
    current = session.get(NormVersion, norm.current_version_id)
    if _same_text(current, draft):
        session.flush()
        return None
    if not change_summary.strip():
        raise ValidationFailed(
            "Say in a sentence what changed: readers of earlier versions will see it.",
            field="change_summary",
        )
    version = _add_version(
        session, norm, editor, draft, current.number + 1, change_summary, is_material
    )
    if not is_material and norm.in_force_version_number == current.number:
        # A minor revision of the text in force binds as it stands.
        norm.in_force_version_number = version.number
    session.flush()
    events.publish(session, events.Norm.Revised, norm=norm, version=version, material=is_material)
    return version


def allowed_transitions(session: Session, norm: Norm, user: User | None) -> list[str]:
    if user is None:
        return []
    membership = active_membership(session, norm.community, user)
    steward = is_steward(membership, user)
    author = norm.author_id == user.id and membership is not None
    result = []
    for (src, dst), who in TRANSITIONS.items():
        if src == dst and norm.pending_version_number is None:
            continue
        if src == norm.status and (steward or (who == "author" and author)):
            result.append(dst)
    return result


def change_status(
    session: Session, norm: Norm, actor: User, to_status: str, note: str = ""
) -> StatusChange:
    require_plain_text(note, "The note", field="note", multiline=True)
    if (norm.status, to_status) not in TRANSITIONS:
        raise ValidationFailed(
            f"A norm that is {norm.status_label.lower()} cannot move to “{to_status}”."
        )
    if to_status == norm.status and norm.pending_version_number is None:
        raise ValidationFailed("The current version of this norm is already in force.")
    if to_status not in allowed_transitions(session, norm, actor):
        raise Forbidden("You may not make this change to this norm.")
    # Features with a say (the exposure gate, the attention budget) refuse by raising.
    events.publish(
        session, events.Norm.StatusChanging, norm=norm, new_status=to_status, actor=actor
    )
    old_status = norm.status
    change = StatusChange(
        norm_id=norm.id,
        from_status=norm.status,
        to_status=to_status,
        changed_by_id=actor.id,
        note=note.strip()[:500],
    )
    session.add(change)
    norm.status = to_status
    if to_status == "in_force":
        norm.in_force_version_number = norm.current_version_number
    norm.status_changed_at = norm.last_activity_at = utcnow()
    session.flush()
    events.publish(
        session,
        events.Norm.StatusChanged,
        norm=norm,
        old_status=old_status,
        new_status=to_status,
        actor=actor,
    )
    return change


def get_norm(session: Session, community: Community, ref: str) -> Norm:
    """A norm of ``community`` by slug or numeric id; NotFound otherwise.

    Drafts are visible to the whole community: proposing in the open is the point.
    """
    if has_nul(ref):
        raise NotFound("No such norm in this community.")
    # Its pages name its author: loaded with it, not by a query of its own.
    query = select(Norm).where(Norm.community_id == community.id).options(joinedload(Norm.author))
    norm = session.scalar(query.where(Norm.slug == ref))
    norm_id = parse_id(ref) if norm is None else None
    if norm_id is not None:
        norm = session.scalar(query.where(Norm.id == norm_id))
    if norm is None:
        raise NotFound("No such norm in this community.")
    return norm


def get_version(session: Session, norm: Norm, number: int) -> NormVersion:
    version = session.scalar(
        select(NormVersion).where(NormVersion.norm_id == norm.id, NormVersion.number == number)
    )
    if version is None:
        raise NotFound(f"This norm has no version {number}.")
    return version


def list_versions(session: Session, norm: Norm) -> list[NormVersion]:
    return list(
        session.scalars(
            select(NormVersion)
            .where(NormVersion.norm_id == norm.id)
            .order_by(NormVersion.number.desc())
        )
    )


def count_versions(session: Session, norm: Norm) -> int:
    return session.scalar(select(func.count()).where(NormVersion.norm_id == norm.id)) or 0


MAX_PREREQUISITES = 10


def list_prerequisites(session: Session, norm: Norm) -> list[Norm]:
    """The norms ``norm`` builds on, by title."""
    return list(
        session.scalars(
            select(Norm)
            .join(NormPrerequisite, NormPrerequisite.prerequisite_id == Norm.id)
            .where(NormPrerequisite.norm_id == norm.id)
            .order_by(Norm.title)
        )
    )


def _builds_on(session: Session, start: Norm, target_id: int) -> bool:
    """Whether ``start`` builds on ``target_id``, directly or through other norms."""
    seen: set[int] = set()
    frontier = [start.id]
    while frontier:
        if target_id in frontier:
            return True
        seen.update(frontier)
        frontier = [
            n
            for n in session.scalars(
                select(NormPrerequisite.prerequisite_id).where(
                    NormPrerequisite.norm_id.in_(frontier)
                )
            )
            if n not in seen
        ]
    return False


def set_prerequisites(session: Session, norm: Norm, actor: User, prerequisites: list[Norm]) -> None:
    """Replace what ``norm`` builds on. Not versioned: like tags, it is filing."""
    if not can_edit(session, norm, actor):
        raise Forbidden("Only the author or a steward can edit this norm.")
    if len(prerequisites) > MAX_PREREQUISITES:
        raise ValidationFailed(
            f"A norm can build on at most {MAX_PREREQUISITES} others.", field="prerequisites"
        )
    for other in prerequisites:
        if other.id == norm.id:
            raise ValidationFailed("A norm cannot build on itself.", field="prerequisites")
        if other.community_id != norm.community_id:
            raise ValidationFailed(
                "A norm can only build on norms of the same community.", field="prerequisites"
            )
        if _builds_on(session, other, norm.id):
            raise ValidationFailed(
                f"“{other.title}” already builds on this norm; the two would go in a circle.",
                field="prerequisites",
            )
    wanted = {other.id for other in prerequisites}
    existing = {
        row.prerequisite_id: row
        for row in session.scalars(
            select(NormPrerequisite).where(NormPrerequisite.norm_id == norm.id)
        )
    }
    for prerequisite_id, row in existing.items():
        if prerequisite_id not in wanted:
            session.delete(row)
    for prerequisite_id in wanted - existing.keys():
        session.add(NormPrerequisite(norm_id=norm.id, prerequisite_id=prerequisite_id))
    session.flush()
