"""The ladder of engagement as numbers, and what the exposure modules share.

The ranks are the indexes of ``models.LEVELS``, so a level stored as a number
(the summary rows) compares directly with these.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from normhub.exposure.models import LEVELS
from normhub.norms.models import Norm, pending_version

NONE, DELIVERED, OPENED, READ, UNDERSTOOD, ENDORSED = range(len(LEVELS))
EXPOSED = READ  # "fully exposed" means read or better on the current family
ACTIVE_STATUSES = ("open", "in_force")


def norm_ref(norm: Norm) -> dict:
    return {"id": norm.id, "slug": norm.slug, "title": norm.title}


class NormState(NamedTuple):
    """A norm as it stood at one instant: its status and which versions existed.

    ``current_version_number`` is 0 when the norm did not exist yet. While a
    material revision of a norm in force waits for the gate, the state is that
    of the version in force (what members are bound by), and
    ``pending_version_number`` names the proposed one.
    """

    status: str
    current_version_number: int
    last_material_version_number: int
    in_force_since: datetime | None
    author_id: int | None
    pending_version_number: int | None = None

    @classmethod
    def now(cls, norm) -> NormState:
        # Only "in force → retired" leaves the in-force status, so while a norm
        # is in force its last status change is when it came into force.
        in_force_since = norm.status_changed_at if norm.status == "in_force" else None
        return cls(
            norm.status,
            norm.current_version_number,
            norm.last_material_version_number,
            in_force_since,
            norm.author_id,
            pending_version(norm.status, norm.in_force_version_number, norm.current_version_number),
        )
