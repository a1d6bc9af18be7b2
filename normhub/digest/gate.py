"""Open norms close to the in-force gate: the digest reminds members who have not read them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from normhub.exposure.coverage import gate_counts
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
    ``APPROACHING_MARGIN_PCT`` points of the community's threshold. The exposure
    service's gate counts (summed in SQL: a community holds hundreds of open norms,
    few of them close) decide; only the norms that close are loaded.
    """
    open_norms = Norm.status == "open"
    if community_ids is not None:
        open_norms = open_norms & Norm.community_id.in_(community_ids)
    close = {
        norm_id: count.understood_pct
        for norm_id, count in gate_counts(session, open_norms).items()
        if count.active_members
        and count.understood_pct >= count.threshold_pct - APPROACHING_MARGIN_PCT
        and count.gap  # the gate is met when nobody more is needed
    }
    if not close:
        return {}
    norms = session.scalars(
        select(Norm).where(Norm.id.in_(close)).options(selectinload(Norm.community))
    )
    return {norm.id: (norm, close[norm.id]) for norm in norms}
