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

from collections import defaultdict
from collections.abc import Callable, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from normhub.communities.models import Membership
from normhub.digest.models import DigestSend
from normhub.exposure.path_progress import progress_from, summaries_for
from normhub.norms.models import Norm
from normhub.norms.path import NewcomerPath, load_paths

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
                Membership.user_id.in_(user_ids),
                Membership.community_id.in_(community_ids),
                Membership.left_at.is_(None),
                sent_since_joining < FIRST_DIGESTS,
            )
        )
    ]


def path_leads(
    session: Session,
    user_ids: list[int],
    community_ids: set[int],
    paths_of: PathLoader | None = None,
) -> dict[int, list[tuple[Norm, int]]]:
    """Per newcomer, the norms of their communities' paths they have not read and
    understood, each with its place on its path, in path order (community by
    community): four queries for the whole batch, none when it holds no newcomer,
    two when ``paths_of`` (a digest run's) has the paths already."""
    pairs = newcomers(session, user_ids, community_ids)
    if not pairs:
        return {}
    wanted = {community_id for _, community_id in pairs}
    paths = paths_of(wanted) if paths_of else load_paths(session, wanted)
    norm_ids = [norm_id for path in paths.values() for norm_id in path.norm_ids]
    summaries = summaries_for(session, sorted({user_id for user_id, _ in pairs}), norm_ids)
    steps = {step.norm.id: step for path in paths.values() for step in path.steps}
    leads: dict[int, list[tuple[Norm, int]]] = defaultdict(list)
    for user_id, community_id in sorted(pairs):
        for norm_id in progress_from(paths[community_id], user_id, summaries).not_done():
            leads[user_id].append((steps[norm_id].norm, steps[norm_id].position))
    return leads
