"""The emails the accounts feature sends.

Accounts sits below the mail layer, so it asks for its emails by event
(``events.Mail.Requested``): the mail layer renders the template pair and
queues the email in the caller's transaction (``mail.queue.send_email``), to
be delivered once that transaction commits.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from normhub import events
from normhub.accounts.models import User
from normhub.accounts.reset import LINK_MINUTES

PASSWORD_RESET_TEMPLATE = "password_reset"  # noqa: S105 (a template name)


def send_password_reset_email(session: Session, user: User, link: str) -> None:
    """Queue the email carrying ``link`` (a reset link made for ``user``) to ``user``."""
    _request_email(
        session,
        PASSWORD_RESET_TEMPLATE,
        user.email,
        {"display_name": user.display_name, "link": link, "minutes": LINK_MINUTES},
        kind="password-reset",
    )


def _request_email(session: Session, template: str, to: str, context: dict, kind: str) -> None:
    if not events.Mail.Requested.in_transaction.receivers:
        # Without the mail layer the email would vanish without a word.
        raise RuntimeError("Nothing queues email: normhub.mail is not set up in this app.")
    events.publish(
        session, events.Mail.Requested, template=template, to=to, context=context, kind=kind
    )
