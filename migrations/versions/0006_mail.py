"""mail: address states apart from the digest

The digest's bounce list (one row per member, naming the address refused)
becomes the mail layer's state of an address: one row per address, with a
status (bounced, or suppressed). Every bounce is kept; should two members'
rows name the same address, the later bounce is kept. Downgrading gives each
member whose current address is bounced their row back.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_address_states",
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_email_address_states")),
    )
    op.execute(
        """
        INSERT INTO email_address_states (address, status, reason, recorded_at)
        SELECT bounce.email, 'bounced', bounce.reason, bounce.bounced_at
        FROM digest_bounces AS bounce
        WHERE NOT EXISTS (
            SELECT 1 FROM digest_bounces AS later
            WHERE later.email = bounce.email
              AND (later.bounced_at > bounce.bounced_at
                   OR (later.bounced_at = bounce.bounced_at AND later.user_id > bounce.user_id))
        )
        """
    )
    op.drop_table("digest_bounces")


def downgrade() -> None:
    op.create_table(
        "digest_bounces",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("bounced_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_digest_bounces_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_digest_bounces")),
    )
    op.execute(
        """
        INSERT INTO digest_bounces (user_id, email, reason, bounced_at)
        SELECT users.id, state.address, state.reason, state.recorded_at
        FROM email_address_states AS state
        JOIN users ON users.email = state.address
        WHERE state.status = 'bounced'
        """
    )
    op.drop_table("email_address_states")
