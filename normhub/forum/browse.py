"""The norm index of a community: filters and sorting done in SQL, then paginated.

Every filter is a WHERE clause on the one query handed to ``paginate``, so the
page count and the page contents always agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Select, distinct, exists, func, null, select
from sqlalchemy.orm import Session, selectinload

from normhub.accounts.models import User
from normhub.communities.models import Community
from normhub.discussion.models import Comment
from normhub.norms.models import (
    STATUSES,
    Norm,
    NormTag,
    NormVersion,
    StatusChange,
)
from normhub.pagination import Page, paginate
from normhub.responses.models import Response
from normhub.text import control_character_problem

SORTS = {
    "activity": "Last activity",
    "newest": "Newest",
    "responses": "Most responses",
    "title": "Title",
}
DEFAULT_SORT = "activity"
# Withdrawn proposals clutter the index; they stay reachable with status=withdrawn or all.
DEFAULT_STATUSES = tuple(s for s in STATUSES if s != "withdrawn")
ALL_STATUSES = "all"


@dataclass(frozen=True)
class NormFilters:
    status: str | None = None
    tag: str | None = None
    not_responded: bool = False
    changed_since_response: bool = False
    sort: str = DEFAULT_SORT

    @classmethod
    def from_args(cls, args, viewer: User | None) -> NormFilters:
        """Filters from query arguments; unknown values fall back to the defaults."""
        status = args.get("status") or None
        if status not in (*STATUSES, ALL_STATUSES):
            status = None
        tag = (args.get("tag") or "").strip().lower() or None
        if control_character_problem(tag, "tag", multiline=False):
            tag = None  # no tag holds one (and PostgreSQL refuses a NUL in a query)
        sort = args.get("sort") if args.get("sort") in SORTS else DEFAULT_SORT
        logged_in = viewer is not None
        return cls(
            status=status,
            tag=tag[:40] if tag else None,
            not_responded=logged_in and args.get("mine") == "not_responded",
            changed_since_response=logged_in and args.get("mine") == "changed",
            sort=sort,
        )


# The pace a reading time assumes (words a minute).
READING_WPM = 200

# Where the viewer stands with each norm of a list, as the exposure ledger says:
# (session, viewer, norms) -> {norm id: "exposed" | "reread" | "changed" | "not_read" |
# "not_opened"}
# (standing.reading_state's words; a norm left out was never opened). The ledger sits
# above the forum, so the exposure feature registers this from its setup.
ReadingStates = Callable[[Session, User, list[Norm]], dict[int, str]]
_reading_states: list[ReadingStates] = []


def register_reading_states(reading_states: ReadingStates) -> None:
    """One at a time: registering again replaces it, so every new app may register."""
    _reading_states[:] = [reading_states]


# What a logged-in member's mark on a norm says, by its name.
MARKS = {
    "yours": "You wrote this",
    "answered": "You responded",
    "changed": "Changed since you responded",
    "changed_since_read": "Changed since you read it",
    "reread_due": "Re-read asked",
    "read": "Read, no response yet",
    "unread": "Unread",
}


@dataclass
class NormRow:
    norm: Norm
    responder_count: int
    # The version number of the viewer's latest response, or None.
    my_version: int | None
    # Comments one can read (those hidden by a steward left out).
    comment_count: int = 0
    # The current text's words (summary and essay), counted by its spaces and line breaks.
    essay_words: int = 0
    # The viewer's mark (a key of MARKS); None for a visitor.
    mark: str | None = None

    @property
    def changed_since_my_response(self) -> bool:
        """Changed materially since the viewer's latest response: a wording fix asks nothing."""
        return (
            self.my_version is not None and self.norm.last_material_version_number > self.my_version
        )

    @property
    def reading_minutes(self) -> int:
        return max(1, math.ceil(self.essay_words / READING_WPM))

    @property
    def mark_label(self) -> str:
        label = MARKS[self.mark] if self.mark else ""
        return f"{label} (v{self.my_version})" if self.mark == "changed" else label


def mark_for(row: NormRow, viewer: User, reading_state: str | None) -> str:
    """The viewer's mark on ``row``'s norm: their response first, then what they read."""
    if row.norm.author_id == viewer.id:
        return "yours"
    if row.my_version is not None and row.changed_since_my_response:
        return "changed"
    if reading_state == "reread":  # read longer ago than the re-read period asked for
        return "reread_due"
    if row.my_version is not None:
        return "answered"
    return {"exposed": "read", "changed": "changed_since_read"}.get(reading_state, "unread")


def responder_count_expr():
    """Number of distinct people who responded to the norm (any version)."""
    return (
        select(func.count(distinct(Response.user_id)))
        .where(Response.norm_id == Norm.id)
        .correlate(Norm)
        .scalar_subquery()
    )


def my_latest_version_expr(viewer: User):
    """The version number the viewer's newest response was recorded on."""
    newest_response = (
        select(func.max(Response.id))
        .where(Response.norm_id == Norm.id, Response.user_id == viewer.id)
        .correlate(Norm)
        .scalar_subquery()
    )
    return (
        select(NormVersion.number)
        .join(Response, Response.version_id == NormVersion.id)
        .where(Response.id == newest_response)
        .correlate(Norm)
        .scalar_subquery()
    )


def comment_count_expr():
    """The norm's comments that anyone who sees it may read (not hidden by a steward)."""
    return (
        select(func.count(Comment.id))
        .where(Comment.norm_id == Norm.id, Comment.hidden_at.is_(None))
        .correlate(Norm)
        .scalar_subquery()
    )


def _occurrences(text, piece: str):
    """SQL: how many times ``piece`` occurs in ``text``."""
    return (func.length(text) - func.length(func.replace(text, piece, ""))) // len(piece)


def _word_breaks(text):
    """SQL: the spaces and line breaks of ``text``, a blank line counted once: one fewer
    than its words, where words are parted by one space or line break (as they mostly are)."""
    return _occurrences(text, " ") + _occurrences(text, "\n") - _occurrences(text, "\n\n")


def essay_words_expr():
    """About how many words the current version's summary and essay hold, counted in SQL
    so a list never loads the essays."""
    return (
        select(_word_breaks(NormVersion.summary) + _word_breaks(NormVersion.body) + 2)
        .where(NormVersion.id == Norm.current_version_id)
        .correlate(Norm)
        .scalar_subquery()
    )


def norm_index_query(community: Community, viewer: User | None, filters: NormFilters) -> Select:
    responders = responder_count_expr().label("responder_count")
    my_version = (
        my_latest_version_expr(viewer).label("my_version")
        if viewer is not None
        else null().label("my_version")
    )
    query = select(
        Norm,
        responders,
        my_version,
        comment_count_expr().label("comment_count"),
        essay_words_expr().label("essay_words"),
    ).where(Norm.community_id == community.id)
    if filters.status == ALL_STATUSES:
        pass
    elif filters.status:
        query = query.where(Norm.status == filters.status)
    else:
        query = query.where(Norm.status.in_(DEFAULT_STATUSES))
    if filters.tag:
        query = query.where(exists().where(NormTag.norm_id == Norm.id, NormTag.tag == filters.tag))
    if viewer is not None and filters.not_responded:
        query = query.where(
            ~exists().where(Response.norm_id == Norm.id, Response.user_id == viewer.id)
        )
    if viewer is not None and filters.changed_since_response:
        # Material changes only, as the rows' marks say: a wording fix asks nothing again.
        query = query.where(Norm.last_material_version_number > my_latest_version_expr(viewer))
    order = {
        "activity": (Norm.last_activity_at.desc(), Norm.id.desc()),
        "newest": (Norm.created_at.desc(), Norm.id.desc()),
        "responses": (responders.desc(), Norm.last_activity_at.desc(), Norm.id.desc()),
        "title": (func.lower(Norm.title), Norm.id),
    }[filters.sort]
    return query.order_by(*order).options(selectinload(Norm.tags))


def norm_index(
    session: Session,
    community: Community,
    viewer: User | None,
    filters: NormFilters,
    page_number: int,
    per_page: int,
) -> Page:
    """One page of the index; for a logged-in viewer each row carries their mark.

    The counts and word totals come with the rows; the marks add one query for the
    whole page (where the viewer stands with each norm), none per norm.
    """
    page = paginate(session, norm_index_query(community, viewer, filters), page_number, per_page)
    page.items = [
        NormRow(norm, count or 0, mine, comments or 0, words or 0)
        for norm, count, mine, comments, words in page.items
    ]
    if viewer is not None and page.items:
        states = (
            _reading_states[0](session, viewer, [row.norm for row in page.items])
            if _reading_states
            else {}
        )
        for row in page.items:
            row.mark = mark_for(row, viewer, states.get(row.norm.id))
    return page


def community_tags(session: Session, community: Community) -> list[str]:
    """Tags used by the community's norms, for the tag filter."""
    return list(
        session.scalars(
            select(NormTag.tag)
            .join(Norm, Norm.id == NormTag.norm_id)
            .where(Norm.community_id == community.id)
            .distinct()
            .order_by(NormTag.tag)
        )
    )


@dataclass
class FeedItem:
    kind: str  # "proposed" or "status"
    norm: Norm
    at: object
    change: StatusChange | None = None


def feed_items(session: Session, community: Community, limit: int = 50) -> list[FeedItem]:
    """Newest proposals and status changes of the community, newest first."""
    norms = session.scalars(
        select(Norm)
        .where(Norm.community_id == community.id)
        .order_by(Norm.created_at.desc(), Norm.id.desc())
        .limit(limit)
    ).all()
    changes = session.execute(
        select(StatusChange, Norm)
        .join(Norm, Norm.id == StatusChange.norm_id)
        .where(Norm.community_id == community.id)
        .order_by(StatusChange.changed_at.desc(), StatusChange.id.desc())
        .limit(limit)
        .options(selectinload(StatusChange.changed_by))
    ).all()
    items = [FeedItem("proposed", norm, norm.created_at) for norm in norms]
    items += [FeedItem("status", norm, change.changed_at, change) for change, norm in changes]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]
