"""The record pages: a community's record, a member's record on their page, and the lists
a member's counts open."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from markupsafe import Markup
from sqlalchemy.orm import Session

from normhub.accounts.models import User
from normhub.accounts.services import find_user_by_handle
from normhub.auth import current_user_or_none
from normhub.communities.services import get_visible_community
from normhub.db import get_session
from normhub.pagination import page_number
from normhub.records import member as member_records
from normhub.records.community import community_record
from normhub.reviews.models import OUTCOME_LABELS

bp = Blueprint("records", __name__)


@bp.route("/c/<slug>/record")
def community(slug: str):
    """What the community's norms came to: for whoever may see the community."""
    session = get_session()
    found = get_visible_community(session, slug, current_user_or_none())
    return render_template(
        "records/community.html", community=found, record=community_record(session, found)
    )


def member_section(session: Session, member: User, viewer: User | None) -> Markup:
    """The record section of a member's page (forum.member_page)."""
    record = member_records.member_record(session, member, viewer)
    # A rendered template: every value in it was escaped by the template engine.
    html = render_template("records/_member_record.html", member=member, record=record)
    return Markup(html)  # noqa: S704


@bp.route("/members/<handle>/record/<part>")
def member_list(handle: str, part: str):
    """What one count of a member's record counts, optionally in one community."""
    session = get_session()
    member = find_user_by_handle(session, handle)
    if member is None or part not in member_records.LISTS:
        abort(404)
    viewer = current_user_or_none()
    slug = request.args.get("community")
    community = get_visible_community(session, slug, viewer) if slug else None
    number = page_number(request.args.get("page"))
    per_page = current_app.config["PAGE_SIZE"]
    page = member_records.member_list(session, member, viewer, part, community, number, per_page)
    return render_template(
        "records/member_list.html",
        member=member,
        part=part,
        title=member_records.LISTS[part],
        community=community,
        page=page,
        outcome_labels=OUTCOME_LABELS,
    )
