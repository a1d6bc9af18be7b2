"""What mail adds to the app: the queued mail's delivery and resend jobs."""

from __future__ import annotations

from flask import Flask

from normhub import events
from normhub.jobs.queue import register
from normhub.mail.queue import deliver_queued_email, forget_recipient, resend_overdue


def init_app(app: Flask) -> None:
    register(app, deliver_queued_email, resend_overdue)
    events.Account.Deleting.in_transaction.connect(forget_recipient)
