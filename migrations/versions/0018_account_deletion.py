"""account deletion

A member may delete their account. The users row stays, emptied of name,
address and password, so the norms and comments they wrote keep an author
("a former member"); ``deleted_at`` says it happened. What they had seen of
each norm survives only as anonymous counts, in ``former_member_exposure``.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("deleted_at", sa.DateTime(), nullable=True))
    op.create_table(
        "former_member_exposure",
        sa.Column(
            "norm_id",
            sa.Integer(),
            sa.ForeignKey("norms.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("level", sa.SmallInteger(), primary_key=True),
        sa.Column("members", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("former_member_exposure")
    op.drop_column("users", "deleted_at")
