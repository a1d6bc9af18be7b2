"""active memberships

A partial index on memberships (community_id) of the members who have not
left: coverage counts a community's active members on every list that weighs
norms by their gap to the in-force gate (the reading queue, the home page, a
norm's page), which without it read every membership row of the community
(tens of thousands) to look at its left_at.

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

# This migration's number and the one it follows, on one line: renumbering it when
# another branch took the number is this line (and the file's name).
revision, down_revision = "0028", "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_memberships_active",
        "memberships",
        ["community_id"],
        sqlite_where=sa.text("left_at IS NULL"),
        postgresql_where=sa.text("left_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_memberships_active", table_name="memberships")
