"""Search pages: the results page and its JSON twin under /api/v1/search."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for

from normhub.auth import current_user_or_none
from normhub.db import get_session
from normhub.pagination import page_number
from normhub.search.results import PER_PAGE, SearchHit, SearchResult
from normhub.search.services import search

bp = Blueprint("search", __name__)

FILTER_ARGS = ("community", "status", "tag", "type")


def _run_search() -> SearchResult:
    filters = {name: request.args.get(name, "") for name in FILTER_ARGS if request.args.get(name)}
    return search(
        get_session(),
        current_user_or_none(),
        request.args.get("q", ""),
        page=page_number(request.args.get("page")),
        per_page=PER_PAGE,
        filters=filters,
    )


def hit_url(hit: SearchHit) -> str:
    url = url_for("norms.show", slug=hit.community_slug, norm_ref=hit.norm_slug)
    return f"{url}#comment-{hit.comment_id}" if hit.kind == "comment" else url


@bp.get("/search")
def results():
    outcome = _run_search()
    return render_template("search/results.html", result=outcome, hit_url=hit_url)


@bp.get("/api/v1/search", endpoint="api_search")
def api_search():
    outcome = _run_search()
    return jsonify(
        {
            "query": outcome.query,
            "total": outcome.total,
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
