"""reread periods

A community, and a norm, may ask members to read a norm again every so many
months (normhub.exposure.ageing): communities.reread_months (None: no re-read
asked) and norms.reread_months (None: the community's period; 0: none for this
norm).

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

# This migration's number and the one it follows, on one line: renumbering it when
# another branch took the number is this line (and the file's name).
revision, down_revision = "0025", "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("communities", sa.Column("reread_months", sa.Integer(), nullable=True))
    op.add_column("norms", sa.Column("reread_months", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMNs: a batch copy of either table would cascade-delete what hangs off it.
    op.drop_column("norms", "reread_months")
    op.drop_column("communities", "reread_months")
