"""The ladder of engagement as numbers, and what the exposure modules share.

The ranks are the indexes of ``models.LEVELS``, so a level stored as a number
(the summary rows) compares directly with these.
"""

from __future__ import annotations

from normhub.exposure.models import LEVELS
from normhub.norms.models import Norm

NONE, DELIVERED, OPENED, READ, UNDERSTOOD, ENDORSED = range(len(LEVELS))
EXPOSED = READ  # "fully exposed" means read or better on the current family
ACTIVE_STATUSES = ("open", "in_force")


def norm_ref(norm: Norm) -> dict:
    return {"id": norm.id, "slug": norm.slug, "title": norm.title}
