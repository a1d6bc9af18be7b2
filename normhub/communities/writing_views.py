"""The two small endpoints the writing script calls (static/writing.js).

``POST /c/<slug>/preview`` renders Markdown as the community's pages will
(CSRF-protected like every POST; whoever may see the community, signed in).
``GET /c/<slug>/members/suggest?q=`` lists members to @-mention (members only).
Both answer JSON and are rate-limited (``normhub.ratelimit``).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from normhub.auth import current_user_or_none, require
from normhub.communities import writing
from normhub.communities.access import login_required_in_community
from normhub.communities.services import get_visible_community
from normhub.db import get_session

bp = Blueprint("writing", __name__)

PRIVATE = {"Cache-Control": "private, no-store"}


@bp.post("/c/<slug>/preview")
@login_required_in_community
def preview(slug: str):
    session = get_session()
    community = get_visible_community(session, slug, current_user_or_none())
    html = writing.preview(
        session,
        community,
        request.form.get("text", ""),
        with_mentions=request.form.get("mentions") != "off",
    )
    return jsonify({"html": str(html)}), 200, PRIVATE


@bp.get("/c/<slug>/members/suggest")
@login_required_in_community
def suggest_members(slug: str):
    session = get_session()
    viewer = current_user_or_none()
    community = get_visible_community(session, slug, viewer)
    require(writing.may_suggest_members(session, community, viewer))
    found = writing.suggest_members(
        session, community, request.args.get("q", ""), leaving_out=viewer
    )
    return jsonify({"members": [member.to_dict() for member in found]}), 200, PRIVATE
