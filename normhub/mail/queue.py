"""Mail a change causes: queued in the change's transaction, delivered by the job queue.

:func:`queue_email` writes a :class:`QueuedEmail` row with the change that
causes it, so the mail exists exactly when the change does, and asks for a
delivery job once the transaction has committed. The request never waits on
SMTP, and SMTP being down loses nothing: the row waits.

A delivery job claims its row (status ``sending``, one more attempt, a lease
until ``next_attempt_at``) in a transaction of its own, sends with no
transaction open, then records the outcome: ``sent``; ``failed`` when the
server refused the address for good (5xx) or after ``MAIL_MAX_ATTEMPTS``;
otherwise ``queued`` again, with the next attempt after a doubling delay
(``MAIL_RETRY_SECONDS``, 2×, 4×, … up to 64×) and a job scheduled for then.

Every minute, and whenever a worker starts, :func:`resend_overdue` queues a job
for each row that should have been dealt with by now and was not: an enqueue
lost between the commit and the queue (a crash, Redis down), a retry whose job
was lost, a lease that ran out because its worker died mid-send.

Delivery is at least once. The claim makes a job that runs twice (a duplicate,
a redelivery, the resend racing the first job) send once: only one of them
gets the row. But a worker that dies after the SMTP server accepted the
message and before it recorded ``sent`` leaves the row ``sending``; once the
lease (10 minutes) ends, the resend sends it again, with the same Message-ID,
so mail clients that deduplicate show it once. Marking it sent before sending
would close that window by losing the message instead, which is worse for
a password reset than a second copy.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import Flask, current_app
from huey import crontab
from sqlalchemy import DateTime, Index, Integer, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from normhub import events
from normhub.db import Base, utcnow
from normhub.jobs.queue import enqueue, enqueue_in, job, periodic_job
from normhub.mail.addresses import is_deliverable, record_bounce
from normhub.mail.message import EmailTemplate, Outgoing, Sender, build_message, message_id
from normhub.mail.transports import RecipientRefused, TransportError, transport_for

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"

# How long a claimed row belongs to its worker: well past the SMTP timeouts of one send.
SENDING_LEASE = timedelta(minutes=10)
# A row this far past its next attempt lost its job: the resend queues another.
OVERDUE_AFTER = timedelta(minutes=2)
RESEND_BATCH = 500
# The longest wait between attempts, in units of MAIL_RETRY_SECONDS.
MAX_BACKOFF_FACTOR = 64

# Part of the Message-ID and of the outbox file name.
_KIND = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


class QueuedEmail(Base):
    __tablename__ = "mail_queue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(8), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # Queued: when the next attempt is due. Sending: when the worker's lease ends.
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # RFC 8058 one-click unsubscribe for mail a member may stop (a kind of notification).
    unsubscribe_url: Mapped[str | None] = mapped_column(Text, nullable=True)

    # The claim reads one row by id; the resend reads unfinished rows by due time.
    __table_args__ = (Index("ix_mail_queue_status_next_attempt", "status", "next_attempt_at"),)


class DeliveryRefused(Exception):
    """The server will never take this message for this address: do not retry."""


class DeliveryDeferred(Exception):
    """This attempt failed; a later one may succeed."""


def queue_email(
    session: Session,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    kind: str,
    unsubscribe_url: str | None = None,
) -> QueuedEmail:
    """Queue one email in the caller's transaction; it is delivered after commit, never before.

    ``kind`` names what the mail is for ("verify-email", "password-reset"):
    lowercase letters, digits and hyphens.
    """
    if not _KIND.fullmatch(kind):
        raise ValueError(f"A mail kind is lowercase letters, digits and hyphens, not {kind!r}.")
    now = utcnow()
    queued = QueuedEmail(
        recipient=recipient,
        kind=kind,
        subject=subject,
        text_body=text,
        html_body=html,
        status=QUEUED,
        attempts=0,
        last_error="",
        next_attempt_at=now,
        created_at=now,
        unsubscribe_url=unsubscribe_url,
    )
    session.add(queued)
    session.flush()
    events.call_after_commit(session, enqueue_delivery, queued.id)
    return queued


def send_email(
    session: Session,
    template: str,
    to: str,
    context: dict,
    *,
    kind: str,
    unsubscribe_url: str | None = None,
) -> QueuedEmail:
    """Render the email ``templates/email/<template>/`` for ``to`` now and queue it.

    The one call a feature makes to send mail a change causes: the words are
    fixed when the change happens, and delivery follows the commit.
    """
    subject, text, html = EmailTemplate(current_app.jinja_env, template).render(context)
    return queue_email(session, to, subject, text, html, kind, unsubscribe_url)


def enqueue_delivery(email_id: int) -> None:
    enqueue(deliver_queued_email, email_id)


@job("mail.deliver")
def deliver_queued_email(session: Session, email_id: int) -> None:
    queued = _claim(session, email_id)
    if queued is None:
        return  # sent or failed already, or another worker has it in hand
    if not is_deliverable(session, queued.recipient):
        _record(session, queued, FAILED, "Not sent: mail to this address bounced or is blocked.")
        return
    app = current_app._get_current_object()
    try:
        _transmit(app, queued)
    except DeliveryRefused as exc:
        record_bounce(session, queued.recipient, str(exc))
        _record(session, queued, FAILED, str(exc))
    except DeliveryDeferred as exc:
        _retry_later(session, app, queued, str(exc))
    else:
        _record(session, queued, SENT)


@periodic_job("mail.resend-overdue", crontab(minute="*"))
def resend_overdue(session: Session) -> None:
    """Queue a delivery for each unfinished row whose job should have run by now."""
    now = utcnow()
    overdue = list(
        session.scalars(
            select(QueuedEmail.id)
            .where(
                QueuedEmail.status.in_((QUEUED, SENDING)),
                QueuedEmail.next_attempt_at <= now - OVERDUE_AFTER,
            )
            .order_by(QueuedEmail.next_attempt_at)
            .limit(RESEND_BATCH)
        )
    )
    if not overdue:
        return
    # Due now, and not overdue again until OVERDUE_AFTER: the next minute's run
    # does not queue a second job for a row whose job is still waiting.
    session.execute(
        update(QueuedEmail)
        .where(QueuedEmail.id.in_(overdue), QueuedEmail.status.in_((QUEUED, SENDING)))
        .values(status=QUEUED, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    for email_id in overdue:
        enqueue_delivery(email_id)


def _claim(session: Session, email_id: int) -> QueuedEmail | None:
    """Take the row for this job if it is due, in a transaction of its own."""
    now = utcnow()
    claimed = session.scalars(
        update(QueuedEmail)
        .where(
            QueuedEmail.id == email_id,
            QueuedEmail.status.in_((QUEUED, SENDING)),
            QueuedEmail.next_attempt_at <= now,
        )
        .values(
            status=SENDING, attempts=QueuedEmail.attempts + 1, next_attempt_at=now + SENDING_LEASE
        )
        .returning(QueuedEmail)
        .execution_options(populate_existing=True)
    ).one_or_none()
    # Committed before sending: no transaction (on SQLite, no write lock) is held on SMTP.
    session.commit()
    return claimed


def _record(session: Session, queued: QueuedEmail, status: str, error: str = "") -> None:
    queued.status = status
    queued.last_error = error
    if status == SENT:
        queued.sent_at = utcnow()
    session.commit()


def _retry_later(session: Session, app: Flask, queued: QueuedEmail, error: str) -> None:
    if queued.attempts >= app.config["MAIL_MAX_ATTEMPTS"]:
        _record(session, queued, FAILED, f"Gave up after {queued.attempts} attempts: {error}")
        return
    base = app.config["MAIL_RETRY_SECONDS"]
    delay = base * min(2 ** (queued.attempts - 1), MAX_BACKOFF_FACTOR)
    queued.status = QUEUED
    queued.last_error = error
    queued.next_attempt_at = utcnow() + timedelta(seconds=delay)
    session.commit()
    enqueue_in(delay, deliver_queued_email, queued.id)


def _message(app: Flask, queued: QueuedEmail) -> tuple[Sender, Outgoing]:
    """The bytes of a queued email, with the same Message-ID on every attempt.

    A copy sent twice is shown once by mail clients that deduplicate.
    """
    sender = Sender.from_config(app.config)
    identifier = message_id(
        f"{queued.kind}.{queued.id}.{queued.created_at:%Y%m%d%H%M%S%f}", sender.domain
    )
    headers = ()
    if queued.unsubscribe_url:
        headers = (
            ("List-Unsubscribe", f"<{queued.unsubscribe_url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        )
    outgoing = build_message(
        sender,
        queued.subject,
        queued.recipient,
        identifier,
        queued.text_body,
        queued.html_body,
        headers,
    )
    return sender, outgoing


def _transmit(app: Flask, queued: QueuedEmail) -> None:
    """Send one queued email through the app's transport: SMTP, or ``.eml`` files in the outbox.

    Raises :class:`DeliveryRefused` or :class:`DeliveryDeferred`.
    """
    sender, outgoing = _message(app, queued)
    transport = transport_for(app)
    try:
        transport.open()
        try:
            transport.send(outgoing, sender.envelope, queued.recipient)
        finally:
            transport.close()
    except RecipientRefused as exc:
        raise DeliveryRefused(str(exc)) from exc
    except TransportError as exc:
        # SMTP down or its settings wrong, a 4xx, a dropped connection: try again later.
        raise DeliveryDeferred(str(exc)) from exc


def forget_recipient(session: Session, *, user, remove_writing: bool) -> None:
    """Subscriber of ``events.Account.Deleting``: mail to the account's addresses goes with it.

    Waiting mail is not sent to someone who has just left, and sent mail kept
    here would keep their address and what we told them. A row a worker is
    sending at this moment is left to finish: pulling it from under the
    worker would not unsend it.
    """
    addresses = [address for address in (user.email, user.pending_email) if address]
    session.execute(
        delete(QueuedEmail)
        .where(QueuedEmail.recipient.in_(addresses), QueuedEmail.status != SENDING)
        .execution_options(synchronize_session=False)
    )
