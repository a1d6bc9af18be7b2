"""Exposure pages: coverage, the reading queue, read reports, the norm page's panel.

The check's pages join this blueprint from :mod:`normhub.exposure.check_pages`.
The access rules are written out in :mod:`normhub.exposure`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from normhub import policy
from normhub.accounts.models import User
from normhub.auth import current_user_or_none
from normhub.communities.access import login_required_in_community
from normhub.communities.models import Community, Membership
from normhub.communities.services import (
    active_membership,
    get_visible_community,
)
from normhub.db import get_session
from normhub.errors import DomainError
from normhub.exposure import reading_queue as queue
from normhub.exposure.account_data import former_member_levels
from normhub.exposure.coverage import coverage, not_exposed_for_steward
from normhub.exposure.ledger import read_report_token, record_read_report
from normhub.exposure.levels import ACTIVE_STATUSES, READ
from normhub.exposure.models import LEVEL_RANK, LEVELS
from normhub.exposure.nudges import nudge
from normhub.exposure.report import Standing
from normhub.exposure.standing import standing
from normhub.norms import reread
from normhub.norms.forms import RereadForm
from normhub.norms.models import Norm, NormVersion
from normhub.norms.page import norm_url
from normhub.norms.services import allowed_transitions, get_norm

bp = Blueprint("exposure", __name__)

NORM_URL = "/c/<slug>/norms/<norm_ref>"
UNEXPOSED_SHOWN = 300


def norm_page(norm: Norm, anchor: str | None = None) -> str:
    """The norm's page (the templates' name for ``norms.page.norm_url``)."""
    return norm_url(norm, anchor)


def _min_read_seconds(body: str) -> int:
    """How long the page must be open before the end-of-essay marker counts as read."""
    cap = int(current_app.config.get("EXPOSURE_MIN_READ_SECONDS", 20))
    words = len(body.split())
    return max(0, min(cap, max(2, words // 60)))


@dataclass
class ExposurePanel:
    norm: Norm
    version_number: int
    viewer: User | None
    is_member: bool = False
    token: str | None = None
    status: Standing | None = None
    already_read: bool = False
    min_seconds: int = 2

    @property
    def read_url(self) -> str:
        return url_for("exposure.read", slug=self.norm.community.slug, norm_ref=self.norm.slug)

    @property
    def coverage_url(self) -> str:
        return url_for("exposure.coverage", slug=self.norm.community.slug, norm_ref=self.norm.slug)

    @property
    def check_url(self) -> str:
        return url_for(
            "exposure.check_form", community=self.norm.community.slug, norm=self.norm.slug
        )


def norm_page_context(session: Session, norm: Norm, viewer: User | None, version) -> dict:
    """Template variables for the exposure panel of the norm page."""
    number = version.number if isinstance(version, NormVersion) else int(version)
    body = version.body if isinstance(version, NormVersion) else ""
    panel = ExposurePanel(norm=norm, version_number=number, viewer=viewer)
    panel.min_seconds = _min_read_seconds(body)
    if viewer is not None and active_membership(session, norm.community, viewer) is not None:
        panel.is_member = True
        panel.token = read_report_token(viewer, norm, number)
        panel.status = status = standing(session, norm, viewer)
        # A reading older than the re-read period asks for another: the button returns.
        panel.already_read = (
            LEVEL_RANK[status.current_level] >= READ
            and (status.latest_version_seen or 0) >= number
            and not status.stale_by_age
        )
    return {"exposure_panel": panel, "in_force_refusal": in_force_refusal(session, norm, viewer)}


def in_force_refusal(session: Session, norm: Norm, viewer: User | None) -> str:
    """Why putting ``norm`` (its current version) in force would be refused now, said
    before anyone presses the button; "" when the gate would let it through, or when the
    viewer has no such button."""
    if "in_force" not in allowed_transitions(session, norm, viewer):
        return ""
    result = coverage(session, norm)
    return "" if result.meets_threshold else result.shortfall_message


@bp.post(f"{NORM_URL}/read")
def read(slug: str, norm_ref: str):
    """A read report: the page's script (204) or the "I have read this" button (303)."""
    from_script = request.headers.get("X-Requested-With") == "fetch"
    session = get_session()
    viewer = current_user_or_none()
    community = get_visible_community(session, slug, viewer)
    norm = get_norm(session, community, norm_ref)
    recorded = False
    if viewer is not None:
        try:
            recorded = record_read_report(
                session, viewer, norm, request.form.get("version"), request.form.get("token")
            )
            session.commit()
        except SQLAlchemyError:
            session.rollback()
            current_app.logger.warning("Could not record a read report for norm %s", norm.id)
            recorded = False
    if from_script:
        return "", 204
    if viewer is None:
        return redirect(url_for("accounts.login", next=norm_page(norm)), 303)
    if recorded:
        flash("Thank you. Noted that you read this version to the end.", "success")
    else:
        flash(
            "Nothing new to note: this reading was already recorded, or the page was out of date.",
            "info",
        )
    return redirect(norm_page(norm, "exposure"), 303)


def my_communities(session: Session, viewer: User) -> list[Community]:
    return list(
        session.scalars(
            select(Community)
            .join(Membership, Membership.community_id == Community.id)
            .where(Membership.user_id == viewer.id, Membership.left_at.is_(None))
            .order_by(func.lower(Community.name))
        )
    )


@bp.route("/queue")
@login_required
def reading_queue():
    session = get_session()
    viewer = current_user_or_none()
    community = None
    slug = request.args.get("community", "").strip()
    if slug:
        community = get_visible_community(session, slug, viewer)
    items = queue.reading_queue(session, viewer, community=community, limit=200)
    return render_template(
        "exposure/queue.html",
        items=items,
        community=community,
        communities=my_communities(session, viewer),
        norm_page=norm_page,
    )


@bp.route(f"{NORM_URL}/coverage", endpoint="coverage")
def coverage_page(slug: str, norm_ref: str):
    session = get_session()
    viewer = current_user_or_none()
    community = get_visible_community(session, slug, viewer)
    norm = get_norm(session, community, norm_ref)
    result = coverage(session, norm)
    membership = active_membership(session, community, viewer)
    steward = policy.allows("exposure.see-not-exposed", membership, viewer)
    unexposed = (
        not_exposed_for_steward(session, norm, viewer, limit=UNEXPOSED_SHOWN) if steward else None
    )
    reread_form = None
    if policy.allows("norm.set-reread", membership, viewer):
        reread_form = RereadForm(
            formdata=None, reread=reread.choice_of(norm), months=norm.reread_months or None
        )
    return render_template(
        "exposure/coverage.html",
        community=community,
        norm=norm,
        coverage=result,
        levels=LEVELS,
        steward=steward,
        unexposed=unexposed,
        former_members=former_member_levels(session, norm),
        can_nudge=steward and norm.status in ACTIVE_STATUSES,
        reread_form=reread_form,
        norm_page=norm_page,
    )


@bp.post(f"{NORM_URL}/nudge")
@login_required_in_community
def nudge_members(slug: str, norm_ref: str):
    session = get_session()
    viewer = current_user_or_none()
    community = get_visible_community(session, slug, viewer)
    norm = get_norm(session, community, norm_ref)
    try:
        created = nudge(session, viewer, norm)
    except DomainError as error:
        session.rollback()
        if error.status == 403:
            raise
        flash(error.message, "error")
    else:
        session.commit()
        if created:
            flash(
                f"Queued a reminder for {len(created)} member{'s' if len(created) != 1 else ''}; "
                "it goes out with their next digest.",
                "success",
            )
        else:
            flash("Everyone not yet exposed already has a reminder waiting.", "info")
    return redirect(url_for("exposure.coverage", slug=community.slug, norm_ref=norm.slug), 303)
