"""notifications

In-app notices, each member's watch level per community and email choice per
kind of notice, and the one-click unsubscribe link a queued email may carry.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("communities.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "norm_id", sa.Integer(), sa.ForeignKey("norms.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column(
            "actor_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("summary", sa.String(300), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("group_key", sa.String(80), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("emailed_at", sa.DateTime(), nullable=True),
    )
    op.create_index(
        "ix_notifications_user_unread", "notifications", ["user_id", "read_at", "id"]
    )
    op.create_index("ix_notifications_user_group", "notifications", ["user_id", "group_key"])
    op.create_table(
        "community_watches",
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("communities.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("level", sa.String(12), nullable=False),
    )
    op.create_table(
        "notification_settings",
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("kind", sa.String(24), primary_key=True),
        sa.Column("delivery", sa.String(12), nullable=False),
    )
    op.add_column("mail_queue", sa.Column("unsubscribe_url", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("mail_queue", "unsubscribe_url")
    op.drop_table("notification_settings")
    op.drop_table("community_watches")
    op.drop_index("ix_notifications_user_group", table_name="notifications")
    op.drop_index("ix_notifications_user_unread", table_name="notifications")
    op.drop_table("notifications")
