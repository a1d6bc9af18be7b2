"""The digest email: one member's digest as an :class:`~normhub.mail.message.Email`."""

from __future__ import annotations

from normhub.digest.content import Digest, subject_line
from normhub.mail.message import Email

TEMPLATE = "digest"


def message_key(digest: Digest) -> str:
    """Stable per member and period: a resent digest carries the same Message-ID,
    so mail clients that deduplicate show it once."""
    scope = f".c{digest.scope}" if digest.scope else ""
    return f"digest.{digest.period_kind}.{digest.period_key}{scope}.{digest.user_id}"


def digest_email(digest: Digest) -> Email:
    return Email(
        TEMPLATE,
        digest.email,
        {"digest": digest, "subject": subject_line(digest)},
        display_name=digest.display_name,
        key=message_key(digest),
        headers=(
            # RFC 8058 one-click unsubscribe: the mail client POSTs to this URL.
            ("List-Unsubscribe", f"<{digest.unsubscribe_url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ),
    )
