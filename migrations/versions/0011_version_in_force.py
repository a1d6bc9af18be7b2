"""the version in force

A material revision of a norm in force no longer binds at once: the norm
records which version is in force, and the earlier one stays in force until
the new one passes the in-force gate. Norms in force today are bound by their
current version; norms never in force have none.

Revision ID: 0011
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("norms", sa.Column("in_force_version_number", sa.Integer(), nullable=True))
    norms = sa.table(
        "norms",
        sa.column("status", sa.String),
        sa.column("current_version_number", sa.Integer),
        sa.column("in_force_version_number", sa.Integer),
    )
    op.execute(
        norms.update()
        .where(norms.c.status.in_(["in_force", "retired"]))
        .values(in_force_version_number=norms.c.current_version_number)
    )


def downgrade() -> None:
    # A plain ALTER (SQLite 3.35+ drops columns itself): rebuilding the table
    # would trip the foreign keys that point at it.
    op.drop_column("norms", "in_force_version_number")
