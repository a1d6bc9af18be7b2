"""What the communities feature adds to the app: its pages, the templates' ``may``, and
joining the community a visitor came from once they log in (``arrival``)."""

from __future__ import annotations

from flask import Flask, url_for

from normhub import events, policy
from normhub.accounts.arrival import register_joiner
from normhub.accounts.data_export import register_section
from normhub.auth import current_user_or_none
from normhub.communities.account_data import leave_every_community, memberships_section
from normhub.communities.arrival import community_to_join, join_after_arrival
from normhub.communities.services import active_membership
from normhub.communities.views import bp
from normhub.communities.writing_views import bp as writing_bp
from normhub.db import get_session


def may(action: str, community, norm=None) -> bool:
    """For templates: whether the viewer may do ``action`` in ``community`` (on ``norm``)."""
    viewer = current_user_or_none()
    membership = active_membership(get_session(), community, viewer)
    is_author = norm is not None and viewer is not None and norm.author_id == viewer.id
    return policy.allows(action, membership, viewer, is_author=is_author)


def markdown_box(community, mentions: bool = True, others: dict | None = None) -> dict:
    """For templates: the data attributes of a Markdown textarea in ``community`` (and
    ``others`` given), which static/writing.js reads: where to ask for a preview and,
    where the page shows @handles as names (essays, comments), for members to mention."""
    attributes = dict(others or {})
    attributes["data-preview-url"] = url_for("writing.preview", slug=community.slug)
    if mentions:
        attributes["data-suggest-url"] = url_for("writing.suggest_members", slug=community.slug)
    else:
        attributes["data-preview-mentions"] = "off"
    return attributes


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(writing_bp)
    app.jinja_env.globals["may"] = may
    app.jinja_env.globals["markdown_box"] = markdown_box
    app.jinja_env.globals["community_to_join"] = community_to_join
    register_joiner(join_after_arrival)  # "Register to join" / "Log in to join"
    register_section("communities", memberships_section)
    events.Account.Deleting.in_transaction.connect(leave_every_community)
