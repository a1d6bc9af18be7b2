"""Plain references to a community, a norm and a person, built from query columns.

Where many are needed at once (a digest batch) or every round trip counts
(the API's exposure check), NormHub reads the columns it needs and builds
these instead of loading ORM objects. They read like the models (same
attribute names), so code that takes a Norm or a User takes these too.

NamedTuples, because the hot path builds them positionally from one row; the
fields only some callers fetch come last, with defaults.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from normhub.communities.models import Community
from normhub.norms.models import Norm


class CommunityRef(NamedTuple):
    id: int
    slug: str
    name: str
    visibility: str
    coverage_threshold_pct: int | None = None

    is_public = Community.is_public  # the model's own rule, read from ``visibility``


class NormRef(NamedTuple):
    id: int
    community_id: int
    slug: str
    title: str
    status: str
    current_version_number: int
    last_material_version_number: int
    summary: str = ""
    author_id: int | None = None
    current_version_id: int | None = None
    status_changed_at: datetime | None = None
    # An absolute link, for emails; empty where nothing links to the norm.
    url: str = ""
    in_force_version_number: int | None = None


class PersonRef(NamedTuple):
    id: int
    display_name: str


# The norm columns a complete NormRef is built from; a query that selects them
# (under these names) gives rows ``norm_ref`` reads.
NORM_REF_COLUMNS = (
    Norm.id,
    Norm.community_id,
    Norm.slug,
    Norm.title,
    Norm.status,
    Norm.current_version_number,
    Norm.last_material_version_number,
    Norm.summary,
    Norm.author_id,
    Norm.current_version_id,
    Norm.status_changed_at,
    Norm.in_force_version_number,
)


def norm_ref(norm, url: str = "") -> NormRef:
    """A complete NormRef from a row with ``NORM_REF_COLUMNS``, or from a Norm."""
    return NormRef(
        norm.id,
        norm.community_id,
        norm.slug,
        norm.title,
        norm.status,
        norm.current_version_number,
        norm.last_material_version_number,
        norm.summary,
        norm.author_id,
        norm.current_version_id,
        norm.status_changed_at,
        url,
        norm.in_force_version_number,
    )
