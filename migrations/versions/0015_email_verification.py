"""email address confirmation

Members confirm their address by following a signed link; until they do they
get no digest and no ``delivered`` exposure. ``users.email_verified_at`` says
when; ``pending_email`` holds an address a member asked to move to (mail keeps
going to the old one until the new one is confirmed); ``verification_sent_at``
is when the last link went out, so a resend can wait a few minutes.

Every account that exists now was made before confirmation existed, by
registration, ``flask user create`` or the demo, and has been receiving
digests at its address: each is counted as confirmed, from the moment of this
upgrade (``email_verified_at`` = now), rather than cut off until it clicks a
link it was never sent.

Revision ID: 0015
Revises: 0014
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("email_verified_at", sa.DateTime(), nullable=True))
    op.add_column("users", sa.Column("pending_email", sa.String(length=254), nullable=True))
    op.add_column("users", sa.Column("verification_sent_at", sa.DateTime(), nullable=True))
    users = sa.table("users", sa.column("email_verified_at", sa.DateTime))
    # Naive UTC, as every timestamp in the schema (normhub.db.utcnow).
    now = datetime.now(UTC).replace(tzinfo=None)
    op.execute(users.update().values(email_verified_at=now))


def downgrade() -> None:
    # Plain ALTERs (SQLite 3.35+ drops columns itself): rebuilding the table
    # would trip the foreign keys that point at it.
    op.drop_column("users", "verification_sent_at")
    op.drop_column("users", "pending_email")
    op.drop_column("users", "email_verified_at")
