"""How far a member is along their community's path for newcomers.

A step is done when the member read and understood the version in force: the
summary row shows them at "understood" or better on the material family of the
text in force (or a later one, a revision still waiting for the gate). One query
for the whole path, from the summary rows the other lists read too.

What each step says: "understood" (done), "read" (read the text in force, not
yet said they understood it), "changed" (read an earlier text, and it has
changed materially since), "unread" (neither).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from normhub.accounts.models import User
from normhub.exposure.levels import READ, UNDERSTOOD
from normhub.exposure.models import ExposureSummary
from normhub.idlist import in_ids
from normhub.norms.path import NewcomerPath, PathStep
from normhub.planner import unindexed_number

STATE_LABELS = {
    "understood": "Read and understood",
    "read": "Read; tell the community whether you understood it",
    "changed": "Changed since you read it",
    "unread": "Not read yet",
}


def step_state(step: PathStep, level: int | None, material_base: int | None) -> str:
    """Where a summary row (its level and material family; None: no row) leaves its member."""
    if level is None:
        return "unread"
    on_text_in_force = (material_base or 0) >= step.in_force_base
    if on_text_in_force and level >= UNDERSTOOD:
        return "understood"
    if on_text_in_force and level >= READ:
        return "read"
    return "changed" if (material_base or 0) > 0 and level >= READ else "unread"


@dataclass
class PathProgress:
    # Norm id -> a key of STATE_LABELS, for every step.
    states: dict[int, str]
    # The first step not yet done, None when all are.
    next_norm_id: int | None
    done: int
    total: int
    order: list[int] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        return f"{self.done} of {self.total} read and understood"

    def not_done(self) -> list[int]:
        """The steps left, in path order."""
        return [norm_id for norm_id in self.order if self.states[norm_id] != "understood"]


def summaries_for(
    session: Session, user_ids: list[int], norm_ids: list[int]
) -> dict[tuple[int, int], tuple[int, int]]:
    """(user, norm) -> (level, material base), for the rows that exist: one query."""
    if not user_ids or not norm_ids:
        return {}
    rows = session.execute(
        select(
            ExposureSummary.user_id,
            ExposureSummary.norm_id,
            ExposureSummary.level,
            ExposureSummary.material_base,
        ).where(
            in_ids(ExposureSummary.user_id, user_ids),
            # One parameter, not one a norm: a path holds hundreds of norms. The members'
            # rows are found by the members; the norms only filter them.
            in_ids(unindexed_number(ExposureSummary.norm_id), norm_ids),
        )
    )
    return {(row.user_id, row.norm_id): (row.level, row.material_base) for row in rows}


def progress_from(
    path: NewcomerPath, user_id: int, summaries: dict[tuple[int, int], tuple[int, int]]
) -> PathProgress:
    """A member's progress, from summary rows already loaded (see ``summaries_for``)."""
    states = {}
    for step in path.steps:
        level, base = summaries.get((user_id, step.norm.id), (None, None))
        states[step.norm.id] = step_state(step, level, base)
    order = path.norm_ids
    left = [norm_id for norm_id in order if states[norm_id] != "understood"]
    return PathProgress(
        states,
        left[0] if left else None,
        len(order) - len(left),
        len(order),
        order,
    )


def path_progress(session: Session, user: User, path: NewcomerPath) -> PathProgress:
    """``user``'s progress along ``path``, in one query."""
    return progress_from(path, user.id, summaries_for(session, [user.id], path.norm_ids))
