"""A norm's comments as a thread, shown a page at a time.

The thread reads oldest first at every level, each reply under what it answers,
at most ``MAX_DISPLAY_DEPTH`` deep. In that reading order it is cut into pages of
``COMMENTS_PER_PAGE`` comments, so no page grows with the thread: the norm page
shows the first, the comments pages the others. A reply whose parent is on an
earlier page opens its page, saying whom it answers.

Where each comment falls comes from one light query of the whole thread (ids,
parents and authors, no text, no names): a page then loads the text of its own
comments only, and :func:`page_of` finds the page a link to a comment must open.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from normhub.accounts.models import User
from normhub.discussion.models import Comment
from normhub.errors import NotFound
from normhub.idlist import id_list, in_ids
from normhub.norms.models import Assumption, Norm, NormVersion

COMMENTS_PER_PAGE = 50
# Replies deeper than this are shown at this depth, marked with whom they answer,
# so a long back-and-forth stays readable on a phone.
MAX_DISPLAY_DEPTH = 4


@dataclass
class AssumptionRef:
    """Which assumption a comment is about, as numbered in the version it was written on.

    ``is_current`` says whether the current version still has it at the same number
    with the same wording (minor revisions usually keep both).
    """

    key: int
    position: int
    statement: str
    version_number: int
    is_current: bool


@dataclass
class ThreadNode:
    comment: Comment
    depth: int
    children: list[ThreadNode] = field(default_factory=list)
    about: AssumptionRef | None = None
    # Set when the node is shown shallower than its real depth (see MAX_DISPLAY_DEPTH),
    # or opens a page while what it answers is on an earlier one.
    replying_to: str | None = None


@dataclass
class Thread:
    """One page of a norm's thread; ``count`` is every comment on the norm."""

    roots: list[ThreadNode]
    count: int
    page: int = 1
    pages: int = 1

    def walk(self):
        stack = list(reversed(self.roots))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    @property
    def has_more(self) -> bool:
        return self.page < self.pages


@dataclass
class _Place:
    """Where a comment is shown: under which comment (``holder``), how deep."""

    comment_id: int
    holder: int | None
    depth: int
    author_id: int
    replying_to: int | None = None  # the author whose comment it answers, when shown apart


def _reading_order(session: Session, norm: Norm, max_depth: int) -> list[_Place]:
    """Every comment of ``norm`` in the order the thread reads. One query, no text."""
    rows = session.execute(_reading_order_statement(), {"norm_id": norm.id})
    places: dict[int, _Place] = {}
    under: dict[int | None, list[_Place]] = defaultdict(list)
    for comment_id, parent_id, author_id in rows:
        parent = places.get(parent_id) if parent_id is not None else None
        if parent is None:
            place = _Place(comment_id, None, 0, author_id)
        elif parent.depth < max_depth:
            place = _Place(comment_id, parent.comment_id, parent.depth + 1, author_id)
        else:
            # Shown beside its parent, under the comment that holds the parent.
            place = _Place(comment_id, parent.holder, parent.depth, author_id, parent.author_id)
        places[comment_id] = place
        under[place.holder].append(place)
    order: list[_Place] = []
    stack = list(reversed(under[None]))
    while stack:
        place = stack.pop()
        order.append(place)
        stack.extend(reversed(under[place.comment_id]))
    return order


# The thread's statements, built once with bound parameters: every view of a norm page
# runs them, and building and cache-keying a statement costs more CPU than SQLite needs
# to run these.
@cache
def _reading_order_statement():
    # No names: joining every author cost PostgreSQL a lookup per comment (2 ms for 300),
    # and a page names only the few it shows apart from what they answer.
    return (
        select(Comment.id, Comment.parent_id, Comment.author_id)
        .where(Comment.norm_id == bindparam("norm_id"))
        .order_by(Comment.created_at, Comment.id)
    )


@cache
def _assumptions_statement():
    return (
        select(
            Assumption.version_id,
            Assumption.key,
            Assumption.position,
            Assumption.statement,
            NormVersion.number,
        )
        .join(NormVersion, NormVersion.id == Assumption.version_id)
        .where(NormVersion.norm_id == bindparam("norm_id"))
    )


@cache
def _comments_statement():
    return (
        select(Comment)
        .where(in_ids(Comment.id, id_list("ids")))
        .options(joinedload(Comment.author))
    )


def _pages(count: int, per_page: int) -> int:
    return max(1, -(-count // per_page))


def page_of(session: Session, comment: Comment, *, per_page: int = COMMENTS_PER_PAGE) -> int:
    """The page of its norm's thread that shows ``comment``."""
    order = _reading_order(session, comment.norm, MAX_DISPLAY_DEPTH)
    position = next(i for i, place in enumerate(order) if place.comment_id == comment.id)
    return position // per_page + 1


def _assumption_refs(
    session: Session, norm: Norm, comments: list[Comment]
) -> dict[tuple[int, int], AssumptionRef]:
    """The assumptions ``comments`` are about, by (version id, key); no query if none."""
    if not any(c.assumption_key is not None for c in comments):
        return {}
    rows = list(session.execute(_assumptions_statement(), {"norm_id": norm.id}))
    current = {
        row.key: (row.position, row.statement)
        for row in rows
        if row.version_id == norm.current_version_id
    }
    return {
        (row.version_id, row.key): AssumptionRef(
            key=row.key,
            position=row.position,
            statement=row.statement,
            version_number=row.number,
            is_current=current.get(row.key) == (row.position, row.statement),
        )
        for row in rows
    }


def _comments(session: Session, ids: list[int]) -> dict[int, Comment]:
    if not ids:
        return {}
    comments = session.scalars(_comments_statement(), {"ids": ids})
    return {comment.id: comment for comment in comments}


def _names(session: Session, comments: dict[int, Comment], author_ids: set[int]) -> dict[int, str]:
    """The display names of ``author_ids``: from the page's own comments, one query for
    the authors of none of them (what a page's first reply answers on an earlier page)."""
    names = {
        c.author_id: c.author.display_name for c in comments.values() if c.author_id in author_ids
    }
    missing = author_ids - names.keys()  # usually none
    if missing:
        rows = session.execute(
            select(User.id, User.display_name).where(in_ids(User.id, sorted(missing)))
        )
        names.update(dict(rows.all()))
    return names


def load_thread(
    session: Session,
    norm: Norm,
    page: int = 1,
    *,
    per_page: int = COMMENTS_PER_PAGE,
    max_depth: int = MAX_DISPLAY_DEPTH,
) -> Thread:
    """Page ``page`` of ``norm``'s thread (NotFound past the last). Two queries; one more
    when a comment on the page is about an assumption, and one when a reply on it answers
    someone with no comment on the page (a later page's first reply, say)."""
    order = _reading_order(session, norm, max_depth)
    pages = _pages(len(order), per_page)
    if not 1 <= page <= pages:
        raise NotFound("No such page of comments.")
    shown = order[(page - 1) * per_page : page * per_page]
    comments = _comments(session, [place.comment_id for place in shown])
    refs = _assumption_refs(session, norm, list(comments.values()))
    authors = {place.comment_id: place.author_id for place in order}
    nodes: dict[int, ThreadNode] = {}
    roots: list[ThreadNode] = []
    answering: list[tuple[ThreadNode, int]] = []  # a node shown apart, and whom it answers
    for place in shown:
        comment = comments.get(place.comment_id)
        if comment is None:  # gone since the first query (its norm was deleted)
            continue
        about = refs.get((comment.version_id, comment.assumption_key))
        node = ThreadNode(comment, place.depth, about=about)
        holder = nodes.get(place.holder) if place.holder is not None else None
        if holder is not None:
            holder.children.append(node)
        else:
            roots.append(node)
        answered = place.replying_to  # deeper than the thread shows
        if answered is None and holder is None and place.holder is not None:
            answered = authors[place.holder]  # opens the page; what it answers is earlier
        if answered is not None:
            answering.append((node, answered))
        nodes[comment.id] = node
    names = _names(session, comments, {author for _node, author in answering})
    for node, author in answering:
        node.replying_to = names.get(author)
    return Thread(roots=roots, count=len(order), page=page, pages=pages)
