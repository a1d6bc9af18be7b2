"""A member's notices and settings, in their data download; gone with the account.

Notices to other people that name the member (as who replied, who checked)
keep their place but say "a former member" instead.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from normhub.accounts.models import FORMER_MEMBER_NAME, User
from normhub.db import utc_iso
from normhub.notifications.models import CommunityWatch, Notification, NotificationSetting
from normhub.notifications.services import deliveries


def notifications_section(session: Session, user: User) -> dict:
    notices = session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    )
    return {
        "email_by_kind": deliveries(session, user),
        "notices": [
            {
                "kind": n.kind,
                "summary": n.summary,
                "created_at": utc_iso(n.created_at),
                "read_at": utc_iso(n.read_at),
            }
            for n in notices
        ],
    }


def forget_member(session: Session, *, user: User, remove_writing: bool) -> None:
    for model in (Notification, CommunityWatch, NotificationSetting):
        session.execute(delete(model).where(model.user_id == user.id))
    session.execute(
        update(Notification)
        .where(Notification.actor_id == user.id)
        .values(
            summary=func.replace(Notification.summary, user.display_name, FORMER_MEMBER_NAME),
            actor_id=None,
        )
        .execution_options(synchronize_session=False)
    )
