"""Searching norms and comments for a viewer, through the app's search backend.

The viewer's visible communities (from ``visible_communities_clause``) go to
the backend with the query, so totals, facet counts and pages never include
anything from a members-only community the viewer is not in. The page's
titles and statuses are then read from the database, which is fresher than
any index.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from normhub.accounts.models import User
from normhub.communities.models import Community
from normhub.communities.services import visible_communities_clause
from normhub.discussion.models import Comment
from normhub.norms.models import Norm
from normhub.search.backend import SearchBackend, backend_for
from normhub.search.query import MAX_QUERY_LENGTH, build_query
from normhub.search.results import NOT_UNDERSTOOD_NOTICE, PER_PAGE, SearchHit, SearchResult

__all__ = ["MAX_QUERY_LENGTH", "PER_PAGE", "search", "visible_communities"]

logger = logging.getLogger("normhub.search")

# Fewer hits than this and the page offers a "did you mean".
SUGGEST_BELOW_HITS = 5


def visible_communities(session: Session, viewer: User | None) -> dict[int, Community]:
    rows = session.scalars(select(Community).where(visible_communities_clause(viewer)))
    return {community.id: community for community in rows}


def search(
    session: Session,
    viewer: User | None,
    text: str | None,
    page: int = 1,
    per_page: int = PER_PAGE,
    filters: dict[str, str] | None = None,
    backend: SearchBackend | None = None,
) -> SearchResult:
    """One page of what ``viewer`` may see matching ``text`` and the facet ``filters``."""
    communities = visible_communities(session, viewer)
    query = build_query(text, filters or {}, communities, page=page, per_page=per_page)
    if query.is_empty:
        return query.new_result()
    backend = backend or backend_for(current_app)
    try:
        result = backend.search(query)
        result.hits = _refresh_from_database(session, result.hits)
        if result.searched and communities and query.text and result.total < SUGGEST_BELOW_HITS:
            result.suggestion = backend.suggest(query)
    except Exception:
        logger.exception("Search failed for %r", query.text[:200])
        result = query.new_result()
        result.notices.append(NOT_UNDERSTOOD_NOTICE)
    return result


def _refresh_from_database(session: Session, hits: list[SearchHit]) -> list[SearchHit]:
    """Current titles and statuses for the page, and no comment hidden since indexing."""
    if not hits:
        return hits
    norm_ids = {hit.norm_id for hit in hits}
    norms = {
        row.id: row
        for row in session.execute(
            select(Norm.id, Norm.title, Norm.slug, Norm.status).where(Norm.id.in_(norm_ids))
        )
    }
    comment_ids = [hit.comment_id for hit in hits if hit.comment_id is not None]
    hidden = set()
    if comment_ids:
        hidden = set(
            session.scalars(
                select(Comment.id).where(
                    Comment.id.in_(comment_ids), Comment.hidden_at.is_not(None)
                )
            )
        )
    fresh = []
    for hit in hits:
        norm = norms.get(hit.norm_id)
        if norm is None or hit.comment_id in hidden:
            continue
        hit.title, hit.norm_slug = norm.title, norm.slug
        if hit.kind == "norm":
            hit.status = norm.status
        fresh.append(hit)
    return fresh
