"""notification progress

Checks are told to the people checked by a periodic job, not by the request
that records them (the API check is the hottest path). The job remembers the
last check it told; it starts after the checks that exist at the upgrade, so
no one is told of old checks all at once.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    progress = op.create_table(
        "notification_progress",
        sa.Column("source", sa.String(24), primary_key=True),
        sa.Column("last_id", sa.Integer(), nullable=False),
    )
    last = op.get_bind().scalar(sa.text("SELECT coalesce(max(id), 0) FROM exposure_checks"))
    op.bulk_insert(progress, [{"source": "checks", "last_id": last}])


def downgrade() -> None:
    op.drop_table("notification_progress")
