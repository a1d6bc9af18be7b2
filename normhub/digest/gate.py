"""Open norms close to the in-force gate: the digest reminds members who have not read them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager

from normhub.communities.models import Community, Membership
from normhub.exposure.coverage import coverage_for_norms
from normhub.exposure.tallies import understood_current
from normhub.norms.models import Norm

# "Close to the in-force gate": coverage within this many percentage points of
# the community's threshold, but not past it yet.
APPROACHING_MARGIN_PCT = 25


def approaching_gate(
    session: Session, community_ids: set[int] | None = None
) -> dict[int, tuple[Norm, int]]:
    """Open norms close to the in-force gate: norm id → (norm, understood %).

    "Close" means the gate is not met yet (members or responses short) but the
    share of members who understood the current version is within
    ``APPROACHING_MARGIN_PCT`` points of the community's threshold. The database
    picks the norms that close by its counts (a community holds hundreds of open
    norms, few of them close); the exposure service's coverage of those decides.
    """
    open_norms = select(Norm.id, Norm.community_id, Norm.last_material_version_number).where(
        Norm.status == "open"
    )
    if community_ids is not None:
        open_norms = open_norms.where(Norm.community_id.in_(community_ids))
    understood = understood_current(open_norms).subquery()
    active = select(Membership.community_id, func.count().label("members")).where(
        Membership.left_at.is_(None)
    )
    if community_ids is not None:
        active = active.where(Membership.community_id.in_(community_ids))
    active = active.group_by(Membership.community_id).subquery()
    # understood_pct (a floor of understood * 100 / active) >= threshold - margin.
    close_enough = func.coalesce(understood.c.members, 0) * 100 >= (
        Community.coverage_threshold_pct - APPROACHING_MARGIN_PCT
    ) * func.coalesce(active.c.members, 0)
    query = (
        select(Norm)
        .join(Community, Community.id == Norm.community_id)
        .outerjoin(active, active.c.community_id == Norm.community_id)
        .outerjoin(understood, understood.c.norm_id == Norm.id)
        .where(Norm.status == "open", close_enough)
        .options(contains_eager(Norm.community))
    )
    if community_ids is not None:
        query = query.where(Norm.community_id.in_(community_ids))
    result = {}
    for norm_id, item in coverage_for_norms(session, list(session.scalars(query))).items():
        if item.meets_threshold or not item.active_members:
            continue
        if item.understood_pct >= item.threshold_pct - APPROACHING_MARGIN_PCT:
            result[norm_id] = (item.norm, item.understood_pct)
    return result
