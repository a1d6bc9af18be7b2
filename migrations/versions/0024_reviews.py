"""reviews

Review rounds of norms in force: each community's review period, each norm's
next review date, the rounds, the members' answers (about the norm and each
assumption) and the per-assumption results kept at the decision.

Revision ID: 0024
Revises: 0023
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

# This migration's number and the one it follows, on one line: renumbering it when
# another branch took the number is this line (and the file's name).
revision, down_revision = "0024", "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "community_review_settings",
        sa.Column(
            "community_id",
            sa.Integer(),
            sa.ForeignKey("communities.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("period_days", sa.Integer(), nullable=False),
    )
    op.create_table(
        "norm_review_schedules",
        sa.Column(
            "norm_id", sa.Integer(), sa.ForeignKey("norms.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("period_days", sa.Integer(), nullable=True),
        sa.Column("next_review_at", sa.DateTime(), nullable=True),
    )
    op.create_index(
        "ix_norm_review_schedules_next_review_at", "norm_review_schedules", ["next_review_at"]
    )
    op.create_table(
        "norm_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "norm_id", sa.Integer(), sa.ForeignKey("norms.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(8), nullable=True),
        sa.Column(
            "decided_by_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("decision_note", sa.String(500), nullable=False),
        sa.Column("worked_held", sa.Integer(), nullable=True),
        sa.Column("worked_failed", sa.Integer(), nullable=True),
        sa.Column("worked_unclear", sa.Integer(), nullable=True),
        sa.Column("revised_in_version", sa.Integer(), nullable=True),
    )
    op.create_index("ix_norm_reviews_norm", "norm_reviews", ["norm_id", "id"])
    op.create_table(
        "review_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "review_id",
            sa.Integer(),
            sa.ForeignKey("norm_reviews.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("worked", sa.String(8), nullable=False),
        sa.Column("evidence", sa.String(300), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("review_id", "user_id"),
    )
    op.create_index("ix_review_answers_user_id", "review_answers", ["user_id"])
    op.create_table(
        "review_assumption_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "answer_id",
            sa.Integer(),
            sa.ForeignKey("review_answers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "assumption_id",
            sa.Integer(),
            sa.ForeignKey("assumptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("evidence", sa.String(300), nullable=False),
        sa.UniqueConstraint("answer_id", "assumption_id"),
    )
    op.create_index(
        "ix_review_assumption_answers_assumption_id",
        "review_assumption_answers",
        ["assumption_id"],
    )
    op.create_table(
        "review_assumption_results",
        sa.Column(
            "review_id",
            sa.Integer(),
            sa.ForeignKey("norm_reviews.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "assumption_id",
            sa.Integer(),
            sa.ForeignKey("assumptions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("unclear", sa.Integer(), nullable=False),
    )

    _schedule_norms_already_in_force()


# Norms in force before reviews existed are reviewed too: a period (the default) after
# they came into force, but never sooner than two weeks after this upgrade, so a
# community that has had rules for years is not asked about all of them on day one.
BACKFILL_PERIOD = timedelta(days=90)
BACKFILL_NOTICE = timedelta(days=14)


def _schedule_norms_already_in_force() -> None:
    norms = sa.table(
        "norms",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("status_changed_at", sa.DateTime),
    )
    schedules = sa.table(
        "norm_review_schedules",
        sa.column("norm_id", sa.Integer),
        sa.column("period_days", sa.Integer),
        sa.column("next_review_at", sa.DateTime),
    )
    connection = op.get_bind()
    earliest = datetime.now(UTC).replace(tzinfo=None) + BACKFILL_NOTICE
    rows = [
        {
            "norm_id": norm_id,
            "period_days": None,
            "next_review_at": max((since or earliest) + BACKFILL_PERIOD, earliest),
        }
        for norm_id, since in connection.execute(
            sa.select(norms.c.id, norms.c.status_changed_at).where(norms.c.status == "in_force")
        )
    ]
    if rows:
        op.bulk_insert(schedules, rows)


def downgrade() -> None:
    op.drop_table("review_assumption_results")
    op.drop_index(
        "ix_review_assumption_answers_assumption_id", table_name="review_assumption_answers"
    )
    op.drop_table("review_assumption_answers")
    op.drop_index("ix_review_answers_user_id", table_name="review_answers")
    op.drop_table("review_answers")
    op.drop_index("ix_norm_reviews_norm", table_name="norm_reviews")
    op.drop_table("norm_reviews")
    op.drop_index("ix_norm_review_schedules_next_review_at", table_name="norm_review_schedules")
    op.drop_table("norm_review_schedules")
    op.drop_table("community_review_settings")
