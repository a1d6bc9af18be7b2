"""The two refusals that keep a community's attention: the in-force gate and the open-norm budget.

Both run inside the status change they guard (see ``subscribers``), so a
refusal rolls the change back.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from normhub.communities.models import Community
from normhub.errors import ValidationFailed
from normhub.exposure.coverage import Coverage, coverage
from normhub.exposure.tallies import recount_tallies
from normhub.norms.models import Norm


def in_force_gate(session: Session, norm: Norm) -> Coverage:
    """Refuse to put ``norm`` in force until enough members understood the current version.

    Its tallies are counted again first: the gate decides from the summary
    rows themselves, never from a tally a race may have left off by one.
    """
    recount_tallies(session, [norm.id])
    result = coverage(session, norm)
    if not result.meets_threshold:
        raise ValidationFailed(
            "Not enough of the community has understood this version yet. "
            + result.shortfall_message
        )
    return result


def check_attention_budget(session: Session, norm: Norm) -> None:
    """Refuse to open ``norm`` when the community (or its author) has too many open norms."""
    community = session.execute(
        select(Community).where(Community.id == norm.community_id).with_for_update()
    ).scalar_one()
    if community.max_open_norms is None and community.max_open_per_author is None:
        return
    open_norms = select(func.count(Norm.id)).where(
        Norm.community_id == community.id, Norm.status == "open", Norm.id != norm.id
    )
    if community.max_open_norms is not None:
        count = session.scalar(open_norms) or 0
        if count >= community.max_open_norms:
            raise ValidationFailed(
                f"This community already has {count} norms open for discussion, its limit "
                f"({community.max_open_norms}). Members' attention is finite: wait until one "
                "is decided or withdrawn."
            )
    if community.max_open_per_author is not None:
        count = session.scalar(open_norms.where(Norm.author_id == norm.author_id)) or 0
        if count >= community.max_open_per_author:
            raise ValidationFailed(
                f"The author already has {count} norms open for discussion here, the limit "
                f"per author ({community.max_open_per_author}). Wait until one is decided "
                "or withdrawn."
            )
