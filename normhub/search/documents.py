"""What the index holds for each norm and comment, read from the database.

Every backend indexes these same documents (plain dicts of field values), so
what a norm or comment contributes to search is decided once, here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from normhub import db
from normhub.discussion.models import Comment
from normhub.markdown import plain_text
from normhub.norms.models import Norm, NormVersion


@dataclass
class PendingIds:
    """Norms, comments and renamed authors whose documents are owed an update."""

    norms: set[int] = field(default_factory=set)
    comments: set[int] = field(default_factory=set)
    users: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.norms or self.comments or self.users)

    def clear(self) -> None:
        self.norms.clear()
        self.comments.clear()
        self.users.clear()

    def update(self, other: PendingIds) -> None:
        self.norms |= other.norms
        self.comments |= other.comments
        self.users |= other.users

    def as_json(self) -> str:
        return json.dumps(
            {
                "norms": sorted(self.norms),
                "comments": sorted(self.comments),
                "users": sorted(self.users),
            }
        )


@dataclass
class DocumentChanges:
    """Documents to write (replacing any with the same id) and document ids to remove.

    Removing a norm's document removes its comments' documents too.
    """

    documents: list[dict] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class IndexStats:
    """What ``flask search status`` reports: the index's size and the updates still owed."""

    exists: bool
    documents: int
    segments: int
    pending: PendingIds


def norm_document(norm: Norm) -> dict:
    version = norm.current_version
    assumptions = version.assumptions if version is not None else []
    assumption_text = "\n".join(
        " ".join(part for part in (a.statement, plain_text(a.explanation)) if part)
        for a in assumptions
    )
    body = plain_text(version.body) if version is not None else ""
    title, summary = norm.title, norm.summary
    return {
        "id": f"norm:{norm.id}",
        "kind": "norm",
        "norm_id": str(norm.id),
        "title": title,
        "summary": summary,
        "body": body,
        "assumptions": assumption_text,
        "tag": ",".join(norm.tag_names),
        "status": norm.status,
        "community": norm.community.slug,
        "community_id": str(norm.community_id),
        "author": norm.author.display_name,
        "norm_title": title,
        "norm_slug": norm.slug,
        "created": norm.created_at,
        "updated": version.created_at if version is not None else norm.created_at,
        "spell": spelling_text(title, summary, assumption_text),
    }


def spelling_text(*parts: str) -> str:
    """Words offered as "did you mean" suggestions: a norm's title, summary and assumptions.

    Not essays and comments: they would double the terms every update writes,
    and the words people search for are the ones titles and summaries use.
    """
    return "\n".join(part for part in parts if part)


def comment_document(comment: Comment) -> dict:
    norm = comment.norm
    body = plain_text(comment.body)
    return {
        "id": f"comment:{comment.id}",
        "kind": "comment",
        "norm_id": str(norm.id),
        "comment_id": comment.id,
        "body": body,
        "community": norm.community.slug,
        "community_id": str(norm.community_id),
        "author": comment.author.display_name,
        "norm_title": norm.title,
        "norm_slug": norm.slug,
        "created": comment.created_at,
        "updated": comment.edited_at or comment.created_at,
    }


def _norm_query():
    # One row per norm with its community, author and version joined in (each
    # a single row); tags and assumptions are lists, loaded by one query each.
    return select(Norm).options(
        joinedload(Norm.community),
        joinedload(Norm.author),
        selectinload(Norm.tags),
        joinedload(Norm.current_version).selectinload(NormVersion.assumptions),
    )


def _comment_query():
    return select(Comment).options(
        joinedload(Comment.author),
        joinedload(Comment.norm).joinedload(Norm.community),
    )


def collect_documents(session: Session, pending: PendingIds) -> DocumentChanges:
    """Documents to (re)write and document ids to remove for ``pending``, as the database says."""
    norm_ids, comment_ids = set(pending.norms), set(pending.comments)
    if pending.users:
        user_ids = sorted(pending.users)
        norm_ids |= set(session.scalars(select(Norm.id).where(Norm.author_id.in_(user_ids))))
        comment_ids |= set(
            session.scalars(select(Comment.id).where(Comment.author_id.in_(user_ids)))
        )
    changes = DocumentChanges()
    found_norms: set[int] = set()
    for chunk in _chunks(sorted(norm_ids), 500):
        for norm in session.scalars(_norm_query().where(Norm.id.in_(chunk))):
            changes.documents.append(norm_document(norm))
            found_norms.add(norm.id)
    # A deleted norm's comments went with it (ON DELETE CASCADE).
    changes.removed.extend(f"norm:{norm_id}" for norm_id in sorted(norm_ids - found_norms))
    found_comments: set[int] = set()
    for chunk in _chunks(sorted(comment_ids), 500):
        for comment in session.scalars(_comment_query().where(Comment.id.in_(chunk))):
            found_comments.add(comment.id)
            if comment.is_hidden:
                changes.removed.append(f"comment:{comment.id}")
            else:
                changes.documents.append(comment_document(comment))
    changes.removed.extend(f"comment:{c}" for c in sorted(comment_ids - found_comments))
    return changes


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def count_sources(session: Session) -> int:
    norms = session.scalar(select(func.count(Norm.id))) or 0
    comments = session.scalar(select(func.count(Comment.id)).where(Comment.hidden_at.is_(None)))
    return norms + (comments or 0)


def iter_all_documents(session: Session, batch_size: int = 500) -> Iterator[dict]:
    """Every indexable document, read in id-ordered batches (bounded memory)."""
    last_id = 0
    while True:
        norms = list(
            session.scalars(
                _norm_query().where(Norm.id > last_id).order_by(Norm.id).limit(batch_size)
            )
        )
        if not norms:
            break
        for norm in norms:
            yield norm_document(norm)
        last_id = norms[-1].id
        session.expunge_all()
    last_id = 0
    while True:
        comments = list(
            session.scalars(
                _comment_query()
                .where(Comment.id > last_id, Comment.hidden_at.is_(None))
                .order_by(Comment.id)
                .limit(batch_size)
            )
        )
        if not comments:
            break
        for comment in comments:
            yield comment_document(comment)
        last_id = comments[-1].id
        session.expunge_all()


@contextmanager
def read_session(app) -> Iterator[Session]:
    """A fresh session for reading documents, whose SQLite transactions begin deferred."""
    previous_intent = db._sqlite_immediate.get()
    db.set_write_intent(False)
    session = app.extensions["normhub.sessionmaker"](info={"normhub.search.reader": True})
    try:
        yield session
    finally:
        session.close()
        db.set_write_intent(previous_intent)
