"""A member's responses, in their data download; their reasons taken down on request.

The answers themselves (understood, endorse, agree) stay when the account is
deleted, held by "a former member": the tallies on each norm count them, and
removing them would change what the community was told it thinks.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from normhub.accounts.models import User
from normhub.db import utc_iso
from normhub.norms.models import Norm, NormVersion
from normhub.responses.models import AssumptionResponse, Response


def responses_section(session: Session, user: User) -> list[dict]:
    rows = session.scalars(
        select(Response)
        .where(Response.user_id == user.id)
        .options(
            joinedload(Response.version).joinedload(NormVersion.norm).joinedload(Norm.community),
            selectinload(Response.assumption_responses).joinedload(AssumptionResponse.assumption),
        )
        .order_by(Response.id)
    )
    return [
        {
            "community": r.version.norm.community.slug,
            "norm": r.version.norm.slug,
            "version": r.version.number,
            "understood": r.understood,
            "endorsement": r.endorsement,
            "reason": r.reason,
            "assumptions": [
                {
                    "number": a.assumption.position,
                    "understood": a.understood,
                    "agreement": a.agreement,
                    "reason": a.reason,
                }
                for a in r.assumption_responses
            ],
            "created_at": utc_iso(r.created_at),
        }
        for r in rows
    ]


def remove_reasons(session: Session, *, user: User, remove_writing: bool) -> None:
    """With ``remove_writing``, blank the reasons the member wrote; the answers stay."""
    if not remove_writing:
        return
    session.execute(update(Response).where(Response.user_id == user.id).values(reason=""))
    session.execute(
        update(AssumptionResponse)
        .where(
            AssumptionResponse.response_id.in_(
                select(Response.id).where(Response.user_id == user.id)
            )
        )
        .values(reason="")
    )
