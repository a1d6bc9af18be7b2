"""Threaded discussion of a norm: posting, editing and moderation (threads: loading).

Comments are never deleted by stewards: hiding keeps the row (and the replies
that answer it) and only replaces the text with a placeholder for readers who
are not stewards.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import Session, aliased, joinedload

from normhub import events, policy
from normhub.accounts.models import User
from normhub.communities.models import Community
from normhub.communities.services import active_membership, visible_communities_clause
from normhub.db import utcnow
from normhub.discussion.models import COMMENT_MAX, Comment
from normhub.errors import Forbidden, NotFound, ValidationFailed
from normhub.idlist import id_list, in_ids
from normhub.norms.models import Assumption, Norm, NormVersion
from normhub.norms.refs import NORM_REF_COLUMNS
from normhub.planner import unindexed
from normhub.text import require_plain_text


def _clean_body(body: str) -> str:
    require_plain_text(body, "Your comment", field="body", multiline=True)
    body = (body or "").strip()
    if not body:
        raise ValidationFailed("Write something before posting.", field="body")
    if len(body) > COMMENT_MAX:
        raise ValidationFailed(
            f"A comment must be at most {COMMENT_MAX:,} characters.", field="body"
        )
    return body


def can_comment(session: Session, norm: Norm, user: User | None) -> bool:
    membership = active_membership(session, norm.community, user)
    return policy.allows("norm.comment", membership, user)


def can_moderate(session: Session, norm: Norm, user: User | None) -> bool:
    membership = active_membership(session, norm.community, user)
    return policy.allows("comment.moderate", membership, user)


def current_assumptions(session: Session, norm: Norm) -> list[Assumption]:
    if norm.current_version_id is None:
        return []
    # The norm page has them loaded already (its response form): no second query.
    version = session.identity_map.get(session.identity_key(NormVersion, norm.current_version_id))
    if version is not None and "assumptions" not in inspect(version).unloaded:
        return list(version.assumptions)
    return list(
        session.scalars(
            select(Assumption)
            .where(Assumption.version_id == norm.current_version_id)
            .order_by(Assumption.position)
        )
    )


def post_comment(
    session: Session,
    norm: Norm,
    author: User,
    body: str,
    parent: Comment | None = None,
    assumption_key: int | None = None,
) -> Comment:
    if not can_comment(session, norm, author):
        raise Forbidden("Only members of this community can comment.")
    body = _clean_body(body)
    if parent is not None:
        if parent.norm_id != norm.id:
            raise ValidationFailed("You can only reply to a comment on this norm.")
        if parent.is_hidden:
            raise ValidationFailed("That comment was hidden by a steward; it takes no replies.")
    if assumption_key is not None and assumption_key not in {
        a.key for a in current_assumptions(session, norm)
    }:
        raise ValidationFailed("That assumption is not part of the current version.", field="about")
    comment = Comment(
        norm_id=norm.id,
        author_id=author.id,
        parent_id=parent.id if parent is not None else None,
        version_id=norm.current_version_id,
        assumption_key=assumption_key,
        body=body,
        created_at=utcnow(),
    )
    session.add(comment)
    norm.last_activity_at = comment.created_at
    session.flush()
    events.publish(session, events.Comment.Posted, comment=comment)
    return comment


def can_edit_comment(session: Session, comment: Comment, user: User | None) -> bool:
    return (
        user is not None
        and comment.author_id == user.id
        and not comment.is_hidden
        and can_comment(session, comment.norm, user)
    )


def edit_comment(session: Session, comment: Comment, editor: User, body: str) -> Comment:
    if comment.author_id != editor.id:
        raise Forbidden("Only the author can edit a comment.")
    if comment.is_hidden:
        raise Forbidden("A steward hid this comment, so it can no longer be edited.")
    if not can_comment(session, comment.norm, editor):
        raise Forbidden("Only members of this community can edit their comments.")
    body = _clean_body(body)
    if body != comment.body:
        comment.body = body
        comment.edited_at = utcnow()
    session.flush()
    return comment


def _require_steward(session: Session, comment: Comment, user: User) -> None:
    if not can_moderate(session, comment.norm, user):
        raise Forbidden("Only stewards can hide or restore comments.")


def hide_comment(session: Session, comment: Comment, steward: User) -> Comment:
    _require_steward(session, comment, steward)
    if comment.hidden_at is None:
        comment.hidden_at = utcnow()
        comment.hidden_by_id = steward.id
    session.flush()
    return comment


def unhide_comment(session: Session, comment: Comment, steward: User) -> Comment:
    _require_steward(session, comment, steward)
    comment.hidden_at = None
    comment.hidden_by_id = None
    session.flush()
    return comment


def get_comment(session: Session, community: Community, comment_id: int) -> Comment:
    """A comment on a norm of ``community``; NotFound otherwise."""
    comment = session.scalar(
        select(Comment)
        .join(Norm, Norm.id == Comment.norm_id)
        .where(Comment.id == comment_id, Norm.community_id == community.id)
        .options(joinedload(Comment.norm))
    )
    if comment is None:
        raise NotFound("No such comment.")
    return comment


def _counting_replies(parent, since: datetime, until: datetime | None = None) -> list:
    """Which replies count for the author of ``parent``: visible ones by someone
    else, created in [since, until)."""
    # The parents' authors drive the query: a window of weeks holds every reply of
    # every community, and SQLite walked it all for each batch of a digest run.
    created_at = unindexed(Comment.created_at)
    clauses = [
        Comment.author_id != parent.author_id,
        Comment.hidden_at.is_(None),
        created_at >= since,
    ]
    if until is not None:
        clauses.append(created_at < until)
    return clauses


def replies_to(session: Session, user: User, since: datetime) -> list[Comment]:
    """Visible replies by others to ``user``'s comments, created at or after ``since``.

    One query, with each reply's author, parent, norm and community loaded,
    limited to communities ``user`` can still see. ``replies_to_members`` is
    the same rule for many members at once.
    """
    parent = aliased(Comment)
    return list(
        session.scalars(
            select(Comment)
            .join(parent, parent.id == Comment.parent_id)
            .join(Norm, Norm.id == Comment.norm_id)
            .join(Community, Community.id == Norm.community_id)
            .where(
                parent.author_id == user.id,
                *_counting_replies(parent, since),
                visible_communities_clause(user),
            )
            .order_by(Comment.created_at, Comment.id)
            .options(
                joinedload(Comment.author),
                joinedload(Comment.parent),
                joinedload(Comment.norm).joinedload(Norm.community),
            )
        ).unique()
    )


def replies_to_members(
    session: Session,
    user_ids: list[int],
    community_ids: set[int],
    since: datetime,
    until: datetime,
) -> list:
    """Visible replies by others to comments of ``user_ids`` on norms of
    ``community_ids``, created in [since, until), oldest first. One query.

    Rows, not Comments: ``reply_id``, ``body``, ``created_at``, ``recipient_id``
    (the parent's author), ``author_name``, and the norm's ``NORM_REF_COLUMNS``.
    """
    parameters = {
        "user_ids": user_ids,
        "community_ids": sorted(community_ids),
        "since": since,
        "until": until,
    }
    return session.execute(_replies_to_members_statement(), parameters).all()


@cache
def _replies_to_members_statement():
    # Built once, with bound parameters: building it (an aliased parent, a norm's
    # reference columns) cost more CPU than running it, on every digest preview.
    parent = aliased(Comment)
    return (
        select(
            # Labelled: unlabelled, it would take the name ``id`` from the norm's id.
            Comment.id.label("reply_id"),
            Comment.body,
            Comment.created_at,
            parent.author_id.label("recipient_id"),
            # A per-row lookup by primary key: joining users instead made
            # PostgreSQL hash the whole users table for every batch.
            select(User.display_name)
            .where(User.id == Comment.author_id)
            .scalar_subquery()
            .label("author_name"),
            *NORM_REF_COLUMNS,
        )
        .join(parent, parent.id == Comment.parent_id)
        .join(Norm, Norm.id == Comment.norm_id)
        .where(
            in_ids(parent.author_id, id_list("user_ids")),
            *_counting_replies(parent, bindparam("since"), bindparam("until")),
            Norm.community_id.in_(bindparam("community_ids", expanding=True)),
        )
        .order_by(Comment.created_at, Comment.id)
    )
