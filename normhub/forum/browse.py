"""The norm index of a community: filters and sorting done in SQL, then paginated.

Every filter is a WHERE clause on the one query handed to ``paginate``, so the
page count and the page contents always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, distinct, exists, func, null, select
from sqlalchemy.orm import Session, selectinload

from normhub.accounts.models import User
from normhub.communities.models import Community
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


@dataclass
class NormRow:
    norm: Norm
    responder_count: int
    # The version number of the viewer's latest response, or None.
    my_version: int | None

    @property
    def changed_since_my_response(self) -> bool:
        return self.my_version is not None and self.norm.current_version_number > self.my_version


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


def norm_index_query(community: Community, viewer: User | None, filters: NormFilters) -> Select:
    responders = responder_count_expr().label("responder_count")
    my_version = (
        my_latest_version_expr(viewer).label("my_version")
        if viewer is not None
        else null().label("my_version")
    )
    query = select(Norm, responders, my_version).where(Norm.community_id == community.id)
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
        query = query.where(Norm.current_version_number > my_latest_version_expr(viewer))
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
    page = paginate(session, norm_index_query(community, viewer, filters), page_number, per_page)
    page.items = [NormRow(norm, count or 0, mine) for norm, count, mine in page.items]
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
