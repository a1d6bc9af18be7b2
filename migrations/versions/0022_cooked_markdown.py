"""cooked markdown

Essays (each version), assumptions' explanations, comments and profiles keep their
HTML beside their Markdown, with the version of the renderer that made it, so that
reading a page renders no Markdown (normhub.cooked).

The columns are added empty (NULL), and this migration renders nothing. Adding a
column that may be NULL is quick on any size of table (PostgreSQL and SQLite only
record it), whereas rendering here would hold one long transaction over every
essay and comment, with the app stopped, and would tie this file to whatever the
renderer is when it runs. Pages show rows without HTML correctly, rendering them
as they are read; `flask markdown recook`, run after the upgrade while the app
serves, fills them in batches, each its own short transaction.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

# This migration's number and the one it follows, on one line: renumbering it when
# another branch took the number is this line (and the file's name).
revision, down_revision = "0022", "0021"
branch_labels = None
depends_on = None

COOKED = (
    ("norm_versions", "body"),
    ("assumptions", "explanation"),
    ("comments", "body"),
    ("users", "bio"),
)


def upgrade() -> None:
    for table, column in COOKED:
        op.add_column(table, sa.Column(f"{column}_cooked", sa.Text(), nullable=True))
        op.add_column(table, sa.Column(f"{column}_cooked_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMNs: a batch copy of these tables would cascade-delete rows.
    for table, column in reversed(COOKED):
        op.drop_column(table, f"{column}_cooked_version")
        op.drop_column(table, f"{column}_cooked")
