"""postgres search

The tables the PostgreSQL search backend keeps its documents and "did you mean"
words in (see normhub/search/postgres/models.py). On PostgreSQL also the
extensions, the GIN indexes and the sequence ordering documents by when they
were written; on SQLite the tables are created and stay empty.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

# This migration's number and the one it follows, on one line: renumbering it when
# another branch took the number is this line (and the file's name).
revision, down_revision = "0023", "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE EXTENSION IF NOT EXISTS fuzzystrmatch")
        op.execute("CREATE SEQUENCE search_documents_seq")
    op.create_table(
        "search_documents",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("norm_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("community", sa.String(80), nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("assumptions", sa.Text(), nullable=True),
        sa.Column("norm_title", sa.Text(), nullable=True),
        sa.Column("norm_slug", sa.String(80), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=True),
        sa.Column("updated", sa.DateTime(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("words", TSVECTOR() if postgres else sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_search_documents_words", "search_documents", ["words"], postgresql_using="gin"
    )
    op.create_index("ix_search_documents_norm_id", "search_documents", ["norm_id"])
    op.create_index("ix_search_documents_seq", "search_documents", ["seq"])
    op.create_table(
        "search_words",
        sa.Column("word", sa.String(80), primary_key=True),
        sa.Column("community_id", sa.Integer(), primary_key=True),
    )
    op.create_index(
        "ix_search_words_trigrams",
        "search_words",
        ["word"],
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_table("search_words")
    op.drop_table("search_documents")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS search_documents_seq")
