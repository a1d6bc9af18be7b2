"""What we know about an email address, whoever it belongs to: bounced or suppressed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from normhub.db import Base, utcnow

EMAIL_MAX = 254
# "bounced": the mail server refused the address permanently (5xx); the owner
# of an account with the address can lift it from the settings page.
# "suppressed": we chose to stop mailing it (a complaint, an operator).
ADDRESS_STATUSES = ("bounced", "suppressed")


class EmailAddressState(Base):
    """An address no email goes to. No row: deliverable.

    Keyed by the address, not by the account: a member who changes their
    address is mailed at the new one, and an address that bounced stays
    bounced whoever signs up with it next.
    """

    __tablename__ = "email_address_states"

    address: Mapped[str] = mapped_column(String(EMAIL_MAX), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


__all__ = ["EmailAddressState"]
