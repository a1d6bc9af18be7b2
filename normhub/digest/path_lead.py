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
from typing import NamedTuple

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import Session

from normhub.communities.models import Membership
from normhub.digest.models import DigestSend
from normhub.exposure.path_progress import step_state, summaries_for
from normhub.idlist import id_list, in_ids
from normhub.norms.models import Norm
from normhub.norms.path import path_facts
from normhub.norms.refs import NORM_REF_COLUMNS
from normhub.planner import unindexed


class LeadStep(NamedTuple):
    """A step of a path as a digest needs it: the norm's reference columns
    (``NORM_REF_COLUMNS``), its place, and the newest material version at or before
    the version in force (``PathStep.in_force_base``, which ``step_state`` reads)."""

    norm: Row
    position: int
    in_force_base: int


LeadPath = tuple[LeadStep, ...]
# Community ids -> their paths (``lead_paths``, or a run's cache of it).
PathLoader = Callable[[Iterable[int]], dict[int, LeadPath]]

FIRST_DIGESTS = 3
NORMS_LED = 3


def newcomers(session: Session, user_ids: list[int], community_ids: set[int]) -> list[tuple]:
    """(user, community) of the memberships whose member has had fewer than
    ``FIRST_DIGESTS`` digests sent since joining: one query."""
    parameters = {"user_ids": user_ids, "community_ids": sorted(community_ids)}
    return [
        (row.user_id, row.community_id)
        for row in session.execute(_newcomers_statement(), parameters)
    ]


@functools.cache
def _newcomers_statement():
    # Built once, with bound parameters: building it cost more CPU than running it, on
    # every digest preview.
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
    return select(Membership.user_id, Membership.community_id).where(
        in_ids(Membership.user_id, id_list("user_ids")),
        # The batch's members drive the query (see ``normhub.planner``).
        unindexed(Membership.community_id).in_(bindparam("community_ids", expanding=True)),
        Membership.left_at.is_(None),
        sent_since_joining < FIRST_DIGESTS,
    )


@dataclass
class PathLeads:
    """What a batch's newcomers have left of their communities' paths."""

    paths: dict[int, LeadPath] = field(default_factory=dict)
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

    def steps_left(self, user_id: int, community_id: int) -> Iterator[LeadStep]:
        """The steps of the community's path the member has yet to read and understand,
        in path order (the start page's rule, ``step_state``); none unless they are a
        newcomer there. Lazily: a digest leads with the first few only."""
        if (user_id, community_id) not in self.newcomers:
            return
        if user_id not in self._readers:  # has read none of it: every step is left
            yield from self.paths[community_id]
            return
        for step in self.paths[community_id]:
            level, base = self.summaries.get((user_id, step.norm.id), (None, None))
            if step_state(step, level, base) != "understood":
                yield step


def lead_paths(session: Session, community_ids: Iterable[int]) -> dict[int, LeadPath]:
    """The communities' paths as a digest needs them: the kept plain paths
    (``norms.path.path_facts``) and their norms' reference rows, not ORM objects
    (two queries; a preview loaded hundreds of norms in force to lead with three)."""
    facts = path_facts(session, community_ids)
    ids = [step.norm_id for steps in facts.values() for step in steps]
    rows = {}
    if ids:
        query = select(*NORM_REF_COLUMNS).where(in_ids(Norm.id, ids))
        rows = {row.id: row for row in session.execute(query)}
    return {
        community_id: tuple(
            LeadStep(rows[step.norm_id], position, step.in_force_base)
            for position, step in enumerate(steps, start=1)
            if step.norm_id in rows  # deleted since the path was kept: never shown
        )
        for community_id, steps in facts.items()
    }


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
    paths = paths_of(wanted) if paths_of else lead_paths(session, wanted)
    norm_ids = [step.norm.id for path in paths.values() for step in path]
    summaries = summaries_for(session, sorted({user_id for user_id, _ in pairs}), norm_ids)
    return PathLeads(paths, set(pairs), summaries)
