"""member handles

Profile pages were addressed by the user's id (/members/1, /members/2, ...),
so anyone could list every member by counting. Each user now has a random
public handle, and profile addresses use it. Existing users get one here.

Revision ID: 0017
Revises: 0015
"""

import secrets
import string

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None

# The same form the app gives new users (accounts.models.new_handle), written
# out here so this migration keeps meaning what it meant when the app changes.
ALPHABET = string.ascii_lowercase + string.digits
LENGTH = 12


def _handle() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def upgrade() -> None:
    # NOT NULL from the start: SQLite adds such a column only with a default,
    # and making it NOT NULL afterwards would rebuild the users table (which
    # the foreign keys pointing at it refuse). The default never stays in use:
    # every row gets a handle below, and the app gives every new user one.
    op.add_column(
        "users",
        sa.Column("handle", sa.String(length=LENGTH), nullable=False, server_default=""),
    )
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("handle", sa.String))
    connection = op.get_bind()
    ids = [row.id for row in connection.execute(sa.select(users.c.id))]
    if ids:
        handles: set[str] = set()
        while len(handles) < len(ids):
            handles.add(_handle())
        connection.execute(
            users.update().where(users.c.id == sa.bindparam("user_id")),
            [
                {"user_id": user_id, "handle": handle}
                for user_id, handle in zip(ids, sorted(handles), strict=True)
            ],
        )
    op.create_index("ix_users_handle", "users", ["handle"], unique=True)
    if connection.dialect.name == "postgresql":
        op.alter_column("users", "handle", server_default=None)


def downgrade() -> None:
    op.drop_index("ix_users_handle", table_name="users")
    # A plain ALTER (SQLite 3.35+ drops columns itself), as in 0011.
    op.drop_column("users", "handle")
