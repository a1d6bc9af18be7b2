"""The email a member sends when they share a norm with someone who has not read it.

Queued with the share (``normhub.mail.queue.send_email``): it exists exactly
when the share does, and the job worker delivers it after the commit.
"""

from __future__ import annotations

from normhub.accounts.models import User
from normhub.exposure.models import Reminder
from normhub.mail.queue import QueuedEmail, send_email
from normhub.norms.models import Norm
from normhub.urls import absolute_url

TEMPLATE = "norm_shared"
KIND = "norm-shared"


def send_norm_shared(
    session,
    reminder: Reminder,
    norm: Norm,
    sender: User,
    recipient: User,
    changes: list[dict],
    read_version: int | None,
) -> QueuedEmail:
    """Queue the email: the norm, the sender's message, and what changed since they read it.

    ``changes`` are the material versions since ``read_version``, their newest
    reading (``Standing.changes_since_read``); empty when they never read it.
    """
    context = {
        "sender_name": sender.display_name,
        "recipient_name": recipient.display_name,
        "norm_title": norm.title,
        "norm_summary": norm.summary,
        "community_name": norm.community.name,
        "version_number": reminder.version_number,
        "message": reminder.note,
        "changes": changes,
        "read_version": read_version,
        "norm_url": absolute_url("norms.show", slug=norm.community.slug, norm_ref=norm.slug),
        "reminders_url": absolute_url("remind.reminders_to_me"),
    }
    return send_email(session, TEMPLATE, recipient.email, context, kind=KIND)
