"""The norms a member proposed and the versions they wrote, in their data download.

Nothing here is erased with the account: a norm's versions are what members
read, responded to and were checked against, so they stay under "a former
member" (accounts.deletion).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from normhub.accounts.models import User
from normhub.db import utc_iso
from normhub.norms.models import Norm, NormVersion


def norms_section(session: Session, user: User) -> dict:
    proposed = session.scalars(
        select(Norm)
        .where(Norm.author_id == user.id)
        .options(joinedload(Norm.community))
        .order_by(Norm.id)
    )
    written = session.scalars(
        select(NormVersion)
        .where(NormVersion.editor_id == user.id)
        .options(
            joinedload(NormVersion.norm).joinedload(Norm.community),
            selectinload(NormVersion.assumptions),
        )
        .order_by(NormVersion.norm_id, NormVersion.number)
    )
    return {
        "proposed": [
            {
                "community": norm.community.slug,
                "slug": norm.slug,
                "title": norm.title,
                "status": norm.status,
                "created_at": utc_iso(norm.created_at),
            }
            for norm in proposed
        ],
        "versions_written": [
            {
                "community": version.norm.community.slug,
                "norm": version.norm.slug,
                "number": version.number,
                "title": version.title,
                "summary": version.summary,
                "body": version.body,
                "assumptions": [
                    {"number": a.position, "statement": a.statement, "explanation": a.explanation}
                    for a in version.assumptions
                ],
                "material": version.is_material,
                "change_summary": version.change_summary,
                "created_at": utc_iso(version.created_at),
            }
            for version in written
        ],
    }
