"""The tables the PostgreSQL search backend keeps: one row per document, and the words offered.

``search_documents`` holds what a hit shows and a weighted ``tsvector``
(title A; tags and summary B; assumptions C; essay and comment text D) plus
one unweighted term per filter value (``tag:…``, ``status:…``, ``author:…``,
``community:…``, ``kind:…``), so the GIN index on it answers words and
typed filters alike. ``search_words`` lists the words of norm titles,
summaries and assumptions per community, for "did you mean".

The tables exist on SQLite too (the schema is one for both databases) but
stay empty there: the Whoosh backend is the one used on SQLite.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from normhub.db import Base

__all__ = ["SearchDocument", "SearchWord"]

WORDS_TYPE = Text().with_variant(TSVECTOR(), "postgresql")


class SearchDocument(Base):
    __tablename__ = "search_documents"
    __table_args__ = (
        Index("ix_search_documents_words", "words", postgresql_using="gin"),
        Index("ix_search_documents_norm_id", "norm_id"),
        Index("ix_search_documents_seq", "seq"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # "norm:12", "comment:7"
    kind: Mapped[str] = mapped_column(String(16))
    norm_id: Mapped[int] = mapped_column(Integer)
    comment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    community_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    community: Mapped[str | None] = mapped_column(String(80), nullable=True)  # the slug
    status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    tags: Mapped[str] = mapped_column(Text, default="")  # comma-separated, as documents give them
    author: Mapped[str | None] = mapped_column(Text, nullable=True)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    assumptions: Mapped[str | None] = mapped_column(Text, nullable=True)
    norm_title: Mapped[str | None] = mapped_column(Text, nullable=True)
    norm_slug: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    updated: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # When the document was last written (a sequence): "newest first" among equals.
    seq: Mapped[int] = mapped_column(BigInteger)
    words: Mapped[str | None] = mapped_column(WORDS_TYPE, nullable=True)


class SearchWord(Base):
    __tablename__ = "search_words"
    __table_args__ = (
        Index(
            "ix_search_words_trigrams",
            "word",
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
        ),
    )

    word: Mapped[str] = mapped_column(String(80), primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer, primary_key=True)
