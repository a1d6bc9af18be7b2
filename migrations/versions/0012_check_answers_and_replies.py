"""check answers kept whole, and replies

Each exposure check is recorded whole: the answer becomes a text column (it
was cut at 1,000 characters, and an answer listing many long assumptions is
longer), and the row keeps the recommended next step's code, the instant the
check was about (as_of), the checker's note, and the checked person's reply
with when they wrote it. Downgrading cuts answers back to 1,000 characters.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD_ANSWER_MAX = 1000


def upgrade() -> None:
    # batch_alter_table: SQLite cannot change a column's type in place, so it
    # copies the table (nothing points at exposure_checks); PostgreSQL alters it.
    with op.batch_alter_table("exposure_checks", schema=None) as batch_op:
        batch_op.alter_column(
            "answer",
            existing_type=sa.String(length=OLD_ANSWER_MAX),
            type_=sa.Text(),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("recommendation", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("as_of", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("reply", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("replied_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    checks = sa.table("exposure_checks", sa.column("answer", sa.Text))
    op.execute(
        checks.update()
        .where(sa.func.length(checks.c.answer) > OLD_ANSWER_MAX)
        .values(answer=sa.func.substr(checks.c.answer, 1, OLD_ANSWER_MAX))
    )
    with op.batch_alter_table("exposure_checks", schema=None) as batch_op:
        batch_op.drop_column("replied_at")
        batch_op.drop_column("reply")
        batch_op.drop_column("note")
        batch_op.drop_column("as_of")
        batch_op.drop_column("recommendation")
        batch_op.alter_column(
            "answer",
            existing_type=sa.Text(),
            type_=sa.String(length=OLD_ANSWER_MAX),
            existing_nullable=False,
        )
