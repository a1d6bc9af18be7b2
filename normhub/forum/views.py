"""The forum's pages: every community, one community's norms (and its Atom feed) and its
about page, a member.

They read across communities, norms and responses, so they sit above all three.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request

from normhub.accounts.services import find_user_by_handle
from normhub.auth import current_user_or_none
from normhub.communities import services
from normhub.db import get_session
from normhub.forum import browse, member_page
from normhub.forum.feed import build_feed
from normhub.forum.services import (
    community_about,
    community_summaries,
    proposed_norms,
    responded_norms,
)
from normhub.norms.models import STATUS_LABELS, STATUSES
from normhub.norms.path import path_summary
from normhub.pagination import page_number
from normhub.urls import AbsoluteUrls

bp = Blueprint("forum", __name__)


@bp.route("/communities")
def index():
    """Every community the viewer may see (the home page, ``/``, is the home feature's)."""
    summaries = community_summaries(get_session(), current_user_or_none())
    return render_template("forum/index.html", summaries=summaries)


@bp.route("/c/<slug>")
def community(slug: str):
    session = get_session()
    viewer = current_user_or_none()
    community = services.get_visible_community(session, slug, viewer)
    membership = services.active_membership(session, community, viewer)
    filters = browse.NormFilters.from_args(request.args, viewer)
    page = browse.norm_index(
        session,
        community,
        viewer,
        filters,
        page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "forum/community.html",
        community=community,
        membership=membership,
        can_manage=services.can_manage(session, community, viewer),
        filters=filters,
        page=page,
        tags=browse.community_tags(session, community),
        statuses=STATUSES,
        status_labels=STATUS_LABELS,
        sorts=browse.SORTS,
        path=path_summary(session, community),
    )


@bp.route("/c/<slug>/about")
def about(slug: str):
    """What the community is for, who looks after it, and when a norm may come into force."""
    session = get_session()
    viewer = current_user_or_none()
    community = services.get_visible_community(session, slug, viewer)
    return render_template(
        "forum/about.html",
        about=community_about(session, community),
        community=community,
        membership=services.active_membership(session, community, viewer),
    )


@bp.route("/c/<slug>/feed.atom")
def feed(slug: str):
    session = get_session()
    # Feed readers carry no login, so a feed shows only what anyone may see.
    community = services.get_visible_community(session, slug, None)
    items = browse.feed_items(session, community)
    # Links from BASE_URL, never from the request's Host header (anyone can forge it).
    body = build_feed(community, items, AbsoluteUrls(current_app))
    return Response(body, mimetype="application/atom+xml")


@bp.route("/members/<handle>")
def member(handle: str):
    """A member's page, at their random handle: ids would let anyone list every member.

    The old numeric addresses (/members/<id>) name no handle, so they are a 404
    for everyone, logged in or not; a redirect from them would let anyone
    with an account turn ids back into handles.
    """
    session = get_session()
    user = find_user_by_handle(session, handle)
    if user is None:
        abort(404)
    viewer = current_user_or_none()
    proposed = proposed_norms(session, user, viewer)
    responded = responded_norms(session, user, viewer)
    return render_template(
        "forum/member.html",
        member=user,
        proposed=proposed,
        responded=responded,
        sections=member_page.sections(session, user, viewer),
    )
