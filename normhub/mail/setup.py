"""What mail adds to the app: the queued mail's delivery and resend jobs, and the queueing
of email that features below the mail layer ask for (``events.Mail.Requested``)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from normhub import events
from normhub.jobs.queue import register
from normhub.mail.queue import deliver_queued_email, resend_overdue, send_email


def queue_requested_email(session: Session, *, template: str, to: str, context: dict, kind: str):
    """Accounts sits below mail, so it asks for its emails by event: queued in its transaction."""
    send_email(session, template, to, context, kind=kind)


def init_app(app: Flask) -> None:
    register(app, deliver_queued_email, resend_overdue)
    events.Mail.Requested.in_transaction.connect(queue_requested_email)
