"""tallies after answering

A community setting, on by default: a member sees how others answered a norm (the
tallies and the crux) only once they have answered it themselves, or ask to see
them, so that first answers are not anchored by the crowd.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

# This migration's number and the one it follows, on one line: renumbering it when
# another branch took the number is this line (and the file's name).
revision, down_revision = "0021", "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "communities",
        sa.Column(
            "hide_tallies_until_answered", sa.Boolean(), nullable=False, server_default=sa.true()
        ),
    )


def downgrade() -> None:
    # A plain DROP COLUMN: a batch copy of the table would cascade-delete its norms.
    op.drop_column("communities", "hide_tallies_until_answered")
