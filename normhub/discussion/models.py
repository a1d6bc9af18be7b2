from __future__ import annotations

from datetime import datetime

from markupsafe import Markup
from sqlalchemy import DateTime, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from normhub import cooked
from normhub.accounts.models import User
from normhub.db import Base, utcnow
from normhub.norms.models import Norm

COMMENT_MAX = 20_000


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_norm_created", "norm_id", "created_at"),
        # The newest comments of several communities (a member's home): read newest
        # first and stopped after a page, instead of sorting every comment.
        Index("ix_comments_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    norm_id: Mapped[int] = mapped_column(ForeignKey("norms.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # The version current when the comment was written, and optionally the
    # assumption (by its cross-version key) the comment is about.
    version_id: Mapped[int] = mapped_column(ForeignKey("norm_versions.id"))
    assumption_key: Mapped[int | None] = mapped_column(Integer, nullable=True)
    body: Mapped[str] = mapped_column(Text)
    body_cooked: Mapped[str | None] = mapped_column(Text, nullable=True)
    body_cooked_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    norm: Mapped[Norm] = relationship()
    parent: Mapped[Comment | None] = relationship(remote_side=[id])

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_removed_by_author(self) -> bool:
        """Emptied when its author deleted their account and asked for their words to go."""
        return self.hidden_at is not None and self.hidden_by_id == self.author_id

    def body_html(self, mentions=None) -> Markup:
        return cooked.html(self, "body", mentions)


cooked.keep_cooked(Comment, "body")
