"""The email a notice sends at once, for the kinds a member gets by email.

Queued with the notice (``normhub.mail.queue.send_email``), delivered after
the commit. Each carries an RFC 8058 one-click unsubscribe link for its kind
alone: a mail client's "unsubscribe" stops that kind of email, nothing else.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from normhub import tokens
from normhub.accounts.models import User
from normhub.mail.queue import send_email
from normhub.notifications.kinds import KINDS
from normhub.notifications.models import Notification
from normhub.urls import absolute_url, base_url

TEMPLATE = "notification"


def unsubscribe_token(user_id: int, kind: str) -> str:
    return tokens.sign(
        current_app.config["SECRET_KEY"], tokens.NOTIFICATION_UNSUBSCRIBE, [user_id, kind]
    )


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """(user id, kind) from a link, or TokenExpired / TokenInvalid."""
    claims = tokens.verify(current_app.config["SECRET_KEY"], tokens.NOTIFICATION_UNSUBSCRIBE, token)
    if (
        not isinstance(claims, list)
        or len(claims) != 2
        or not isinstance(claims[0], int)
        or claims[1] not in KINDS
    ):
        raise tokens.TokenInvalid("not a notification unsubscribe token")
    return claims[0], claims[1]


def send_notification_email(session: Session, user: User, notification: Notification) -> None:
    unsubscribe_url = absolute_url(
        "notifications.unsubscribe", token=unsubscribe_token(user.id, notification.kind)
    )
    context = {
        "recipient_name": user.display_name,
        "community_name": notification.community.name,
        "summary": notification.summary,
        "url": base_url() + notification.target,
        "kind_label": KINDS[notification.kind].label,
        "settings_url": absolute_url("notifications.settings"),
        "unsubscribe_url": unsubscribe_url,
    }
    send_email(
        session,
        TEMPLATE,
        user.email,
        context,
        kind=f"notice-{notification.kind}",
        unsubscribe_url=unsubscribe_url,
    )
