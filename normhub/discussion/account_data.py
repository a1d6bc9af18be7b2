"""A member's comments, in their data download; taken down on request with the account.

Without a request they stay, under "a former member": replies quote and answer
them, and a thread with holes reads as nonsense.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from normhub.accounts.models import User
from normhub.cooked import cooked_values
from normhub.db import utc_iso, utcnow
from normhub.discussion.models import Comment
from normhub.norms.models import Norm


def comments_section(session: Session, user: User) -> list[dict]:
    rows = session.scalars(
        select(Comment)
        .where(Comment.author_id == user.id)
        .options(joinedload(Comment.norm).joinedload(Norm.community))
        .order_by(Comment.id)
    )
    return [
        {
            "community": c.norm.community.slug,
            "norm": c.norm.slug,
            "id": c.id,
            "replying_to": c.parent_id,
            "body": c.body,
            "created_at": utc_iso(c.created_at),
            "edited_at": utc_iso(c.edited_at),
            "hidden_by_a_steward": c.is_hidden,
        }
        for c in rows
    ]


def remove_comments(session: Session, *, user: User, remove_writing: bool) -> None:
    """With ``remove_writing``, empty the member's comments; the thread keeps their place."""
    if not remove_writing:
        return
    session.execute(
        update(Comment)
        .where(Comment.author_id == user.id)
        .values(**cooked_values("body", ""), hidden_at=utcnow(), hidden_by_id=user.id)
    )
