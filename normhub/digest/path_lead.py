"""A new member's first digests lead with the next norms on their community's path.

"New" is counted in digests, not days: the first ``FIRST_DIGESTS`` digests sent to
a member since they joined the community. Three is about a month for the weekly
digest most members keep, enough to take a newcomer through the core of a
community's norms (``NORMS_LED`` a digest) without turning every later digest
into a syllabus; a daily reader gets through them sooner, at the pace they chose.
The norms led with are those the member has not yet read and understood, in path
order (``normhub.norms.path``), from the progress the start page shows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from normhub.communities.models import Membership
from normhub.digest.models import DigestSend
from normhub.exposure.path_progress import step_state, summaries_for
from normhub.idlist import in_ids
from normhub.norms.path import NewcomerPath, PathStep, load_paths
from normhub.planner import unindexed

# Community ids -> their paths (``load_paths``, or a run's cache of it).
PathLoader = Callable[[Iterable[int]], dict[int, NewcomerPath]]

FIRST_DIGESTS = 3
NORMS_LED = 3


def newcomers(session: Session, user_ids: list[int], community_ids: set[int]) -> list[tuple]:
    """(user, community) of the memberships whose member has had fewer than
    ``FIRST_DIGESTS`` digests sent since joining: one query."""
    sent_since_joining = (
        select(func.count(DigestSend.id))
        .where(
            DigestSend.user_id == Membership.user_id,
            DigestSend.status == "sent",
            DigestSend.sent_at >= Membership.joined_at,
        )
        .correlate(Membership)
        .scalar_subquery()
    )
    return [
        (row.user_id, row.community_id)
        for row in session.execute(
            select(Membership.user_id, Membership.community_id).where(
                in_ids(Membership.user_id, user_ids),
                # The batch's members drive the query (see ``normhub.planner``).
                unindexed(Membership.community_id).in_(community_ids),
                Membership.left_at.is_(None),
                sent_since_joining < FIRST_DIGESTS,
            )
        )
    ]


@dataclass
class PathLeads:
    """What a batch's newcomers have left of their communities' paths."""

    paths: dict[int, NewcomerPath] = field(default_factory=dict)
    # (user, community) of each newcomer's membership.
    newcomers: set[tuple[int, int]] = field(default_factory=set)
    # (user, norm) -> (level, material base), for the paths' norms (``summaries_for``).
    summaries: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)

    @functools.cached_property
    def _readers(self) -> set[int]:
        """The newcomers with a summary row for some norm on their paths."""
        return {user_id for user_id, _ in self.summaries}

    def is_new_to_path(self, user_id: int, community_id: int) -> bool:
        """A newcomer to the community who has read none of its path."""
        return (user_id, community_id) in self.newcomers and user_id not in self._readers

    def steps_left(self, user_id: int, community_id: int) -> Iterator[PathStep]:
        """The steps of the community's path the member has yet to read and understand,
        in path order (the start page's rule, ``step_state``); none unless they are a
        newcomer there. Lazily: a digest leads with the first few only."""
        if (user_id, community_id) not in self.newcomers:
            return
        if user_id not in self._readers:  # has read none of it: every step is left
            yield from self.paths[community_id].steps
            return
        for step in self.paths[community_id].steps:
            level, base = self.summaries.get((user_id, step.norm.id), (None, None))
            if step_state(step, level, base) != "understood":
                yield step


def path_leads(
    session: Session,
    user_ids: list[int],
    community_ids: set[int],
    paths_of: PathLoader | None = None,
) -> PathLeads:
    """The batch's newcomers, their communities' paths and where they are on them:
    four queries for the whole batch, none when it holds no newcomer, two when
    ``paths_of`` (a digest run's) has the paths already."""
    pairs = newcomers(session, user_ids, community_ids)
    if not pairs:
        return PathLeads()
    wanted = {community_id for _, community_id in pairs}
    paths = paths_of(wanted) if paths_of else load_paths(session, wanted)
    norm_ids = [norm_id for path in paths.values() for norm_id in path.norm_ids]
    summaries = summaries_for(session, sorted({user_id for user_id, _ in pairs}), norm_ids)
    return PathLeads(paths, set(pairs), summaries)
