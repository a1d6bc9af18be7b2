"""A member's digest settings and sends, in their data download; erased with the account."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from normhub.accounts.models import User
from normhub.communities.models import Community
from normhub.db import utc_iso
from normhub.digest.models import DigestPreference, DigestSend
from normhub.mail.models import EmailAddressState


def digest_section(session: Session, user: User) -> dict:
    preferences = session.execute(
        select(Community.slug, DigestPreference.frequency)
        .join(Community, Community.id == DigestPreference.community_id)
        .where(DigestPreference.user_id == user.id)
        .order_by(Community.slug)
    )
    sends = session.scalars(
        select(DigestSend).where(DigestSend.user_id == user.id).order_by(DigestSend.id)
    )
    return {
        "frequency_by_community": {slug: frequency for slug, frequency in preferences},
        "sent": [
            {
                "period": f"{send.period_kind} {send.period_key}",
                "status": send.status,
                "norms": send.norm_count,
                "sent_at": utc_iso(send.sent_at),
            }
            for send in sends
        ],
    }


def erase_digest_records(session: Session, *, user: User, remove_writing: bool) -> None:
    """Settings, the record of every digest sent, and what we knew of the address."""
    session.execute(delete(DigestPreference).where(DigestPreference.user_id == user.id))
    session.execute(delete(DigestSend).where(DigestSend.user_id == user.id))
    session.execute(delete(EmailAddressState).where(EmailAddressState.address == user.email))
