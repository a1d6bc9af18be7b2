"""Each community's path for newcomers, kept between requests until a write changes it.

Ordering a path reads every norm in force of the community, counts the words
of each text in force in SQL and follows every prerequisite link: far more work
than the pages that show a path (the reading queue, "Start here", the home page,
the digest) do with it, and a path changes only when a norm's status, title or
text in force, a prerequisite or an assumption changes. So each process keeps
the paths it built, as plain values, under the version of the community's tag
``path:<id>`` (``normhub.kept`` says when a kept value may be served and kept).
"""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from normhub.db import written
from normhub.kept import Bump, KeptValues, Versions
from normhub.norms.models import Assumption, Norm, NormPrerequisite, NormVersion, norm_id_of

EXTENSION = "normhub.norms.path_cache"
# What of a norm row its community's path is built from: which norms are in force
# and which cite others (status), their order (title, created_at) and the text in force.
NORM_ON_PATH = (
    "status",
    "title",
    "created_at",
    "community_id",
    "current_version_number",
    "last_material_version_number",
    "in_force_version_number",
)
# Rows of a norm that a path reads: its texts (their words), what it builds on.
NORM_PARTS_ON_PATH = (NormVersion, Assumption, NormPrerequisite)
# Paths kept per process, least recently used out first: the busiest communities stay.
KEPT_PATHS = 256


def path_tag(community_id: int) -> str:
    return f"path:{community_id}"


def communities_written(session: Session, obj) -> set[int]:
    """The communities whose path ``obj`` (new, changed or deleted) may change."""
    if isinstance(obj, Norm):
        state = inspect(obj)
        if state.pending and obj.status != "in_force":
            return set()  # a new norm counts on a path once in force; its links bump their own
        if not written(obj, NORM_ON_PATH):
            return set()
        # A norm moved between communities leaves one path and may join another.
        history = inspect(obj).attrs["community_id"].history
        return {obj.community_id, *history.deleted} - {None}
    if isinstance(obj, NORM_PARTS_ON_PATH):
        norm_id = norm_id_of(session, obj)
        norm = session.get(Norm, norm_id) if norm_id is not None else None
        if norm is None:
            return set()
        # Links count whatever the norm's status (citations, links through norms not in
        # force); texts only of norms in force (one coming into force bumps as it does).
        if isinstance(obj, NormPrerequisite) or norm.status == "in_force":
            return {norm.community_id}
    return set()


def paths_written(session: Session, obj) -> set[str]:
    """The tags of the paths ``obj`` (new, changed or deleted) may change."""
    return {path_tag(community_id) for community_id in communities_written(session, obj)}


class PathCache(KeptValues):
    """Per-community values (the paths' plain steps) kept under their tag's version."""

    def __init__(self, versions: Versions, bump: Bump, epoch_tag: str, kept: int = KEPT_PATHS):
        super().__init__("paths", path_tag, paths_written, versions, bump, epoch_tag, kept)
