"""exposure ledger, summaries, checks and nudges

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exposure_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("norm_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["norm_id"], ["norms.id"], name=op.f("fk_exposure_events_norm_id_norms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_exposure_events_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exposure_events")),
    )
    with op.batch_alter_table("exposure_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exposure_events_norm_id"), ["norm_id"], unique=False)
        batch_op.create_index(
            "ix_exposure_events_user_norm", ["user_id", "norm_id", "id"], unique=False
        )
        batch_op.create_index(
            "uq_exposure_events_read_once",
            ["user_id", "norm_id", "version_number"],
            unique=True,
            sqlite_where=sa.text("kind = 'read'"),
            postgresql_where=sa.text("kind = 'read'"),
        )

    op.create_table(
        "exposure_summaries",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("norm_id", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("material_base", sa.Integer(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("level_version", sa.Integer(), nullable=True),
        sa.Column("level_at", sa.DateTime(), nullable=True),
        sa.Column("highest_level", sa.SmallInteger(), nullable=False),
        sa.Column("highest_level_version", sa.Integer(), nullable=True),
        sa.Column("highest_level_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["norm_id"], ["norms.id"], name=op.f("fk_exposure_summaries_norm_id_norms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_exposure_summaries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "norm_id", name=op.f("pk_exposure_summaries")),
    )
    with op.batch_alter_table("exposure_summaries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exposure_summaries_norm_level", ["norm_id", "material_base", "level"], unique=False
        )

    op.create_table(
        "exposure_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checker_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("norm_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(
            ["checker_id"], ["users.id"], name=op.f("fk_exposure_checks_checker_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["norm_id"], ["norms.id"], name=op.f("fk_exposure_checks_norm_id_norms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["users.id"], name=op.f("fk_exposure_checks_subject_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exposure_checks")),
    )
    with op.batch_alter_table("exposure_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exposure_checks_checker_id"), ["checker_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exposure_checks_norm_id"), ["norm_id"], unique=False)
        batch_op.create_index("ix_exposure_checks_subject", ["subject_id", "id"], unique=False)

    op.create_table(
        "nudges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("norm_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_nudges_created_by_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["users.id"], name=op.f("fk_nudges_member_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["norm_id"], ["norms.id"], name=op.f("fk_nudges_norm_id_norms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nudges")),
    )
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nudges_norm_id"), ["norm_id"], unique=False)
        batch_op.create_index(
            "ix_nudges_member_pending", ["member_id", "delivered_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.drop_index("ix_nudges_member_pending")
        batch_op.drop_index(batch_op.f("ix_nudges_norm_id"))
    op.drop_table("nudges")
    with op.batch_alter_table("exposure_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_exposure_checks_subject")
        batch_op.drop_index(batch_op.f("ix_exposure_checks_norm_id"))
        batch_op.drop_index(batch_op.f("ix_exposure_checks_checker_id"))
    op.drop_table("exposure_checks")
    with op.batch_alter_table("exposure_summaries", schema=None) as batch_op:
        batch_op.drop_index("ix_exposure_summaries_norm_level")
    op.drop_table("exposure_summaries")
    with op.batch_alter_table("exposure_events", schema=None) as batch_op:
        batch_op.drop_index("uq_exposure_events_read_once")
        batch_op.drop_index("ix_exposure_events_user_norm")
        batch_op.drop_index(batch_op.f("ix_exposure_events_norm_id"))
    op.drop_table("exposure_events")
