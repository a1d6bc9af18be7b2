"""Open norms close to the in-force gate: the digest reminds members who have not read them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from normhub.exposure.coverage import coverage_for_norms
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
    ``APPROACHING_MARGIN_PCT`` points of the community's threshold. Coverage
    comes from the exposure service, a fixed number of queries for all of them.
    """
    query = select(Norm).where(Norm.status == "open").options(selectinload(Norm.community))
    if community_ids is not None:
        query = query.where(Norm.community_id.in_(community_ids))
    norms = list(session.scalars(query))
    result = {}
    for norm_id, item in coverage_for_norms(session, norms).items():
        if item.meets_threshold or not item.active_members:
            continue
        if item.understood_pct >= item.threshold_pct - APPROACHING_MARGIN_PCT:
            result[norm_id] = (item.norm, item.understood_pct)
    return result
