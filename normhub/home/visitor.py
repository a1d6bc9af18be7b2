"""What the home page shows a visitor: live examples from public communities only.

A members-only community does not exist for outsiders, so nothing here comes
from one; coverage counts are shown to anyone who may see a norm (README), and
every norm here is in a public community.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from normhub.communities.models import Community
from normhub.exposure.coverage import Coverage, coverage_for_norms
from normhub.forum.services import CommunitySummary, community_summaries
from normhub.norms.models import Norm

# Public communities named on the page; the rest are one click away.
COMMUNITIES_SHOWN = 6


@dataclass
class Showcase:
    # The norm most recently put in force, and the open norm most recently active.
    in_force: Coverage | None
    open: Coverage | None
    communities: list[CommunitySummary]
    community_count: int


def _public_norm(session: Session, status: str, newest_first) -> Norm | None:
    return session.scalar(
        select(Norm)
        .join(Community, Community.id == Norm.community_id)
        .where(Community.visibility == "public", Norm.status == status)
        .order_by(newest_first.desc(), Norm.id.desc())
        .limit(1)
        .options(contains_eager(Norm.community))
    )


def showcase(session: Session) -> Showcase:
    """Two live norms with their coverage, and the busiest public communities.

    Five queries, whatever the number of communities and norms.
    """
    in_force = _public_norm(session, "in_force", Norm.status_changed_at)
    open_norm = _public_norm(session, "open", Norm.last_activity_at)
    coverages = coverage_for_norms(session, [n for n in (in_force, open_norm) if n is not None])
    summaries = community_summaries(session, None)
    busiest = sorted(summaries, key=lambda s: (-s.member_count, -s.in_force_count))
    return Showcase(
        in_force=coverages.get(in_force.id) if in_force else None,
        open=coverages.get(open_norm.id) if open_norm else None,
        communities=busiest[:COMMUNITIES_SHOWN],
        community_count=len(summaries),
    )
