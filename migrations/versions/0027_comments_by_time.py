"""comments by time

An index on comments (created_at, id): a member's home lists the newest
comments of all their communities, which without it sorted every comment of
those communities on each request.

Revision ID: 0027
Revises: 0026
"""

from alembic import op

# This migration's number and the one it follows, on one line: renumbering it when
# another branch took the number is this line (and the file's name).
revision, down_revision = "0027", "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_comments_created", "comments", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_comments_created", table_name="comments")
