"""Exposure pages: the check, coverage, the reading queue, read reports, checks about me.

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
from normhub.communities.models import Community, Membership
from normhub.communities.services import active_membership, get_visible_community
from normhub.db import begin_write, get_session, set_write_intent
from normhub.errors import DomainError, Forbidden, NotFound
from normhub.exposure import reading_queue as queue
from normhub.exposure.check import check_exposure, checks_about, record_check
from normhub.exposure.coverage import coverage, not_exposed_for_steward
from normhub.exposure.history import parse_as_of
from normhub.exposure.ledger import read_report_token, record_read_report
from normhub.exposure.levels import ACTIVE_STATUSES, READ
from normhub.exposure.models import LEVEL_RANK, LEVELS
from normhub.exposure.nudges import nudge
from normhub.exposure.report import Standing
from normhub.exposure.standing import standing
from normhub.ids import parse_id
from normhub.norms.models import Norm, NormVersion
from normhub.norms.services import get_norm

bp = Blueprint("exposure", __name__)

NORM_URL = "/c/<slug>/norms/<norm_ref>"
UNEXPOSED_SHOWN = 300


def _norm_page(norm: Norm, anchor: str | None = None) -> str:
    if "norms.show" in current_app.view_functions:
        url = url_for("norms.show", slug=norm.community.slug, norm_ref=norm.slug)
    else:
        url = f"/c/{norm.community.slug}/norms/{norm.slug}"
    return f"{url}#{anchor}" if anchor else url


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
        panel.already_read = (
            LEVEL_RANK[status.current_level] >= READ and (status.latest_version_seen or 0) >= number
        )
    return {"exposure_panel": panel}


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
        return redirect(url_for("accounts.login", next=_norm_page(norm)), 303)
    if recorded:
        flash("Thank you. Noted that you read this version to the end.", "success")
    else:
        flash(
            "Nothing new to note: this reading was already recorded, or the page was out of date.",
            "info",
        )
    return redirect(_norm_page(norm, "exposure"), 303)


def _my_communities(session: Session, viewer: User) -> list[Community]:
    return list(
        session.scalars(
            select(Community)
            .join(Membership, Membership.community_id == Community.id)
            .where(Membership.user_id == viewer.id, Membership.left_at.is_(None))
            .order_by(func.lower(Community.name))
        )
    )


@bp.route("/exposure/check")
@login_required
def check_form():
    session = get_session()
    viewer = current_user_or_none()
    communities = _my_communities(session, viewer)
    community = norm = subject = report = None
    as_of_text = request.args.get("as_of", "").strip()
    as_of_error = ""
    norms: list[Norm] = []
    members: list[Membership] = []
    slug = request.args.get("community", "").strip()
    if slug:
        community = get_visible_community(session, slug, viewer)
        if active_membership(session, community, viewer) is None and not viewer.is_admin:
            raise Forbidden("Only members of this community can check who has seen its norms.")
        norms = list(
            session.scalars(
                select(Norm)
                .where(Norm.community_id == community.id)
                .order_by(func.lower(Norm.title), Norm.id)
            )
        )
        members = list(
            session.scalars(
                select(Membership)
                .join(User, User.id == Membership.user_id)
                .where(Membership.community_id == community.id)
                .order_by(Membership.left_at.is_not(None), func.lower(User.display_name))
            )
        )
        norm_ref = request.args.get("norm", "").strip()
        if norm_ref:
            norm = get_norm(session, community, norm_ref)
        member = request.args.get("member", "").strip()
        try:
            as_of = parse_as_of(as_of_text) if as_of_text else None
        except DomainError as error:
            as_of_error = error.message
        if norm is not None and member and not as_of_error:
            member_id = parse_id(member)
            subject = session.get(User, member_id) if member_id is not None else None
            if subject is None:
                raise NotFound("There is no such person.")
            report = check_exposure(session, norm, subject, as_of=as_of)
            begin_write(session)
            record_check(session, viewer, subject, norm, report)
            session.commit()
            # The rest of this GET only reads: don't hold SQLite's write lock for it.
            set_write_intent(False)
    return render_template(
        "exposure/check.html",
        communities=communities,
        community=community,
        norms=norms,
        members=members,
        norm=norm,
        subject=subject,
        report=report,
        as_of_text=as_of_text,
        as_of_error=as_of_error,
        norm_page=_norm_page,
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
        communities=_my_communities(session, viewer),
        norm_page=_norm_page,
    )


@bp.route(f"{NORM_URL}/coverage", endpoint="coverage")
def coverage_page(slug: str, norm_ref: str):
    session = get_session()
    viewer = current_user_or_none()
    community = get_visible_community(session, slug, viewer)
    norm = get_norm(session, community, norm_ref)
    result = coverage(session, norm)
    steward = policy.allows(
        "exposure.see-not-exposed", active_membership(session, community, viewer), viewer
    )
    unexposed = (
        not_exposed_for_steward(session, norm, viewer, limit=UNEXPOSED_SHOWN) if steward else None
    )
    return render_template(
        "exposure/coverage.html",
        community=community,
        norm=norm,
        coverage=result,
        levels=LEVELS,
        steward=steward,
        unexposed=unexposed,
        can_nudge=steward and norm.status in ACTIVE_STATUSES,
        norm_page=_norm_page,
    )


@bp.post(f"{NORM_URL}/nudge")
@login_required
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


@bp.route("/exposure/about-me")
@login_required
def checks_about_me():
    session = get_session()
    viewer = current_user_or_none()
    checks = checks_about(session, viewer, viewer)
    return render_template("exposure/about_me.html", checks=checks, norm_page=_norm_page)
