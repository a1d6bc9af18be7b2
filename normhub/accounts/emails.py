"""The emails the accounts feature sends, each queued in the caller's transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from normhub.accounts.models import User
from normhub.accounts.reset import LINK_MINUTES
from normhub.mail.queue import send_email

PASSWORD_RESET_TEMPLATE = "password_reset"  # noqa: S105 (a template name)


def send_password_reset_email(session: Session, user: User, link: str) -> None:
    """Queue the email carrying ``link`` (a reset link made for ``user``) to ``user``."""
    send_email(
        session,
        PASSWORD_RESET_TEMPLATE,
        user.email,
        {"display_name": user.display_name, "link": link, "minutes": LINK_MINUTES},
        kind="password-reset",
    )
