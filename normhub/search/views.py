"""Search pages: full-text search over norms and comments (stub; filled in below)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

bp = Blueprint("search", __name__)


@bp.get("/search")
def results():
    query = request.args.get("q", "")[:500]
    return render_template("search/results.html", query=query)
