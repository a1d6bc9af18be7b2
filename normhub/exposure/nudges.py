"""Nudges: reminders stewards queue for members who have not read a norm yet.

The digest delivers them (``pending_nudges``, then ``mark_nudges_delivered``).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from normhub import events, policy
from normhub.accounts.models import User
from normhub.communities.services import active_membership
from normhub.db import utcnow
from normhub.errors import Forbidden, ValidationFailed
from normhub.exposure.coverage import not_exposed_member_ids
from normhub.exposure.levels import ACTIVE_STATUSES
from normhub.exposure.models import Nudge
from normhub.idlist import id_list, in_ids
from normhub.norms.models import Norm


def nudge(
    session: Session, steward: User, norm: Norm, members: list[User] | None = None
) -> list[Nudge]:
    """Queue a reminder for each of ``members`` (default: everyone) not yet exposed.

    Members who have read the current version, who are not active members, or
    who already have an undelivered nudge about this norm are skipped; so are
    the norm's author and the steward nudging (no one is nudged about their own
    norm, or by themselves).
    """
    if not policy.allows(
        "exposure.nudge", active_membership(session, norm.community, steward), steward
    ):
        raise Forbidden("Only stewards can nudge members.")
    if norm.status not in ACTIVE_STATUSES:
        raise ValidationFailed("Only norms open for discussion or in force can be nudged about.")
    candidates = set(session.scalars(not_exposed_member_ids(norm, (steward.id,))))
    if members is not None:
        candidates &= {m.id for m in members}
    already = set(
        session.scalars(
            select(Nudge.member_id).where(
                Nudge.norm_id == norm.id,
                Nudge.delivered_at.is_(None),
                Nudge.member_id.in_(candidates),
            )
        )
    )
    created = [
        Nudge(norm_id=norm.id, member_id=member_id, created_by_id=steward.id)
        for member_id in sorted(candidates - already)
    ]
    session.add_all(created)
    session.flush()
    if created:
        events.publish(
            session, events.Exposure.NudgeQueued, norm=norm, steward=steward, nudges=created
        )
    return created


def pending_nudges(session: Session, user_ids: list[int]) -> list[Nudge]:
    """Undelivered nudges for these users, about norms still open or in force."""
    if not user_ids:
        return []
    return list(session.scalars(_pending_nudges_statement(), {"user_ids": user_ids}))


@cache
def _pending_nudges_statement():
    # Built once, with the members' ids bound at run time: building it and its loader
    # options cost more CPU than running it, on every digest preview.
    return (
        select(Nudge)
        .join(Norm, Norm.id == Nudge.norm_id)
        .where(
            in_ids(Nudge.member_id, id_list("user_ids")),
            Nudge.delivered_at.is_(None),
            Norm.status.in_(ACTIVE_STATUSES),
        )
        .order_by(Nudge.member_id, Nudge.id)
        .options(
            selectinload(Nudge.norm).selectinload(Norm.community),
            selectinload(Nudge.created_by),
        )
    )


def mark_nudges_delivered(
    session: Session, nudge_ids: list[int], at: datetime | None = None
) -> int:
    if not nudge_ids:
        return 0
    result = session.execute(
        update(Nudge)
        .where(Nudge.id.in_(list(nudge_ids)), Nudge.delivered_at.is_(None))
        .values(delivered_at=at or utcnow())
    )
    session.flush()
    return result.rowcount or 0
