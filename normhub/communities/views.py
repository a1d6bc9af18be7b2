"""Community list, the norm index of a community, membership, invites and settings."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template, url_for

from normhub.auth import current_user_or_none
from normhub.communities import services
from normhub.db import get_session

bp = Blueprint("communities", __name__)


def has_endpoint(name: str) -> bool:
    """Whether another feature's page exists yet, so links to it can be left out."""
    return name in current_app.view_functions


def norm_url(norm) -> str:
    """The norm's page, or its community's index while the norm pages are absent."""
    if has_endpoint("norms.show"):
        return url_for("norms.show", slug=norm.community.slug, norm_ref=norm.slug)
    return url_for("communities.show", slug=norm.community.slug)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["has_endpoint"] = has_endpoint
    app.jinja_env.globals["norm_url"] = norm_url


@bp.route("/")
def index():
    summaries = services.community_summaries(get_session(), current_user_or_none())
    return render_template("communities/index.html", summaries=summaries)


@bp.route("/c/<slug>")
def show(slug: str):
    session = get_session()
    viewer = current_user_or_none()
    community = services.get_visible_community(session, slug, viewer)
    return render_template("communities/show.html", community=community)
