"""reminders

A member may remind another of a norm only through a check of what that
person has seen: the check decides the fair action (share the norm with
someone who has not read its current text, or record a reminder for someone
who has), and each reminder keeps the check it followed.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("norm_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("from_user_id", sa.Integer(), nullable=False),
        sa.Column("to_user_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reply", sa.String(length=1000), nullable=True),
        sa.Column("replied_at", sa.DateTime(), nullable=True),
        sa.Column("checked_found_exposed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["exposure_checks.id"],
            name=op.f("fk_reminders_check_id_exposure_checks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_reminders_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_user_id"], ["users.id"], name=op.f("fk_reminders_from_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["norm_id"], ["norms.id"], name=op.f("fk_reminders_norm_id_norms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"], ["users.id"], name=op.f("fk_reminders_to_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("check_id", name=op.f("uq_reminders_check_id")),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index("ix_reminders_to_user", ["to_user_id", "id"], unique=False)
        batch_op.create_index("ix_reminders_community", ["community_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_community")
        batch_op.drop_index("ix_reminders_to_user")
    op.drop_table("reminders")
