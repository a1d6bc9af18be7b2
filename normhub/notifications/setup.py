"""What notifications add to the app: the bell on every page, the notifications and
settings pages, watch levels on a community's page, the receivers that make notices,
the email a notice sends, and the member's part of their data and of deleting it."""

from __future__ import annotations

from flask import Flask

from normhub import events
from normhub.accounts.data_export import register_section
from normhub.auth import current_user_or_none
from normhub.db import get_session
from normhub.jobs.queue import register
from normhub.notifications import account_data, subscribers
from normhub.notifications.checks import tell_the_people_checked
from normhub.notifications.emails import send_notification_email
from normhub.notifications.kinds import WATCH_LEVELS
from normhub.notifications.services import register_email_sender
from normhub.notifications.services import watch_level as stored_watch_level
from normhub.notifications.views import bp, unread_notifications


def watch_level(community) -> str:
    """For templates: the viewer's watch level in ``community``."""
    return stored_watch_level(get_session(), current_user_or_none(), community)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["unread_notifications"] = unread_notifications
    app.jinja_env.globals["watch_level"] = watch_level
    app.jinja_env.globals["watch_levels"] = WATCH_LEVELS
    subscribers.connect()
    register(app, tell_the_people_checked)
    register_email_sender(send_notification_email)
    register_section("notifications", account_data.notifications_section)
    events.Account.Deleting.in_transaction.connect(account_data.forget_member)
