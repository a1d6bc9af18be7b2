"""lighter check records

Every API exposure check inserts a row into exposure_checks, and each index on
that table is one more page written per check. Only the subject's index is
read (a member's list of checks about them); the checker and norm indexes
served nothing but cascades on deleting a user or a norm, which NormHub never
does from the app, and which still work without them (by scanning).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exposure_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exposure_checks_checker_id"))
        batch_op.drop_index(batch_op.f("ix_exposure_checks_norm_id"))


def downgrade() -> None:
    with op.batch_alter_table("exposure_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exposure_checks_norm_id"), ["norm_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_exposure_checks_checker_id"), ["checker_id"], unique=False
        )
