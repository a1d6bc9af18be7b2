"""Search pages: the results page and its JSON twin under /api/v1/search."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for

from normhub.auth import current_user_or_none
from normhub.db import get_session
from normhub.pagination import MAX_PAGE, number_argument, page_number
from normhub.search.results import PER_PAGE, SearchHit, SearchResult
from normhub.search.services import search

bp = Blueprint("search", __name__)

FILTER_ARGS = ("community", "status", "tag", "type")
API_MAX_PER_PAGE = 100


def _run_search(page: int, per_page: int) -> SearchResult:
    filters = {name: request.args.get(name, "") for name in FILTER_ARGS if request.args.get(name)}
    return search(
        get_session(),
        current_user_or_none(),
        request.args.get("q", ""),
        page=page,
        per_page=per_page,
        filters=filters,
    )


def hit_url(hit: SearchHit) -> str:
    if hit.kind == "comment":
        return url_for("discussion.comment", slug=hit.community_slug, comment_id=hit.comment_id)
    return url_for("norms.show", slug=hit.community_slug, norm_ref=hit.norm_slug)


@bp.get("/search")
def results():
    outcome = _run_search(page_number(request.args.get("page")), PER_PAGE)
    return render_template("search/results.html", result=outcome, hit_url=hit_url)


@bp.get("/api/v1/search", endpoint="api_search")
def api_search():
    # The schema promises these ranges: out of them is a 400, not a quiet page 1.
    page = number_argument(request.args.get("page"), "page", 1, 1, MAX_PAGE)
    per_page = number_argument(
        request.args.get("per_page"), "per_page", PER_PAGE, 1, API_MAX_PER_PAGE
    )
    outcome = _run_search(page, per_page)
    return jsonify(
        {
            "query": outcome.query,
            "total": outcome.total,
            "total_estimated": outcome.total_estimated,
            "page": outcome.page,
            "per_page": outcome.per_page,
            "pages": outcome.pages,
            "has_next": outcome.has_next,
            "filters": outcome.filters,
            "suggestion": outcome.suggestion,
            "notices": outcome.notices,
            "facets": {
                name: [{"key": v.key, "label": v.label, "count": v.count} for v in values]
                for name, values in outcome.facets.items()
            },
            "results": [
                {
                    "type": hit.kind,
                    "title": hit.title,
                    "url": hit_url(hit),
                    "community": hit.community_slug,
                    "community_name": hit.community_name,
                    "status": hit.status,
                    "author": hit.author,
                    "created": hit.created.isoformat() if hit.created else None,
                    "tags": hit.tags,
                    "snippet_html": str(hit.snippet),
                    "norm_id": hit.norm_id,
                    "comment_id": hit.comment_id,
                }
                for hit in outcome.hits
            ],
        }
    )
