"""The check's pages: the form, a recorded check, replies, and the checks about me.

Nothing here writes on GET. The form is shown on GET (links may pre-fill it);
a check is made and recorded on POST, which redirects (303) to the record's
own page, so a reload shows the record again instead of making another.
The routes join the exposure blueprint (``views.bp``); the access rules are in
:mod:`normhub.exposure.check_records`.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager

from normhub import policy
from normhub.accounts.models import User
from normhub.auth import current_user_or_none
from normhub.communities.models import Community, Membership
from normhub.communities.services import active_membership, get_visible_community, member_by_id
from normhub.db import get_session
from normhub.errors import DomainError, Forbidden, NotFound
from normhub.exposure import check_records, told
from normhub.exposure.check import TIMELINE_LIMIT, check_exposure, record_page_check
from normhub.exposure.forms import CheckForm, ReplyForm
from normhub.exposure.history import parse_as_of
from normhub.exposure.models import ExposureCheck
from normhub.exposure.standing import standing
from normhub.exposure.views import bp, my_communities, norm_page
from normhub.ids import parse_id
from normhub.norms.models import Norm
from normhub.norms.services import get_norm
from normhub.pagination import page_number
from normhub.web import saving

PREFILLED = ("community", "norm", "member", "as_of", "note")


def _community_to_check(session: Session, slug: str, viewer: User) -> Community:
    community = get_visible_community(session, slug, viewer)
    if not policy.allows("exposure.check", active_membership(session, community, viewer), viewer):
        raise Forbidden("Only members of this community can check who has seen its norms.")
    return community


def _choices(session: Session, community: Community) -> tuple[list[Norm], list[Membership]]:
    norms = session.scalars(
        select(Norm)
        .where(Norm.community_id == community.id)
        .order_by(func.lower(Norm.title), Norm.id)
    )
    members = session.scalars(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.community_id == community.id, User.deleted_at.is_(None))
        .order_by(Membership.left_at.is_not(None), func.lower(User.display_name))
        .options(contains_eager(Membership.user))  # the names the list shows, in the same query
    )
    return list(norms), list(members)


def _subject(session: Session, community: Community, member: str) -> User:
    """The person the form names, if they are or were a member here (as the API asks)."""
    subject = member_by_id(session, community, parse_id(member.strip()))
    if subject is None:
        raise NotFound("No member of this community has that id.")
    return subject


def _record(session: Session, form: CheckForm, community: Community, viewer: User):
    """Answer and record the check the form asks for; None (errors on the form) if it can't."""
    norm = get_norm(session, community, form.norm.data.strip())
    subject = _subject(session, community, form.member.data)
    as_of_text = (form.as_of.data or "").strip()
    try:
        as_of = parse_as_of(as_of_text) if as_of_text else None
    except DomainError as error:
        form.as_of.errors = [*form.as_of.errors, error.message]
        return None
    report = check_exposure(session, norm, subject, as_of=as_of)
    with saving(session, form) as attempt:
        check = record_page_check(session, viewer, subject, norm, report, note=form.note.data)
    return check if attempt.ok else None


@bp.route("/exposure/check", methods=["GET", "POST"])
@login_required
def check_form():
    session = get_session()
    viewer = current_user_or_none()
    if request.method == "POST":
        form = CheckForm()
    else:  # a link may pre-fill the form; a GET never checks anything
        form = CheckForm(data={name: request.args.get(name, "") for name in PREFILLED})
    slug = (form.community.data or "").strip()
    community = _community_to_check(session, slug, viewer) if slug else None
    status = 200
    if request.method == "POST":
        if community is not None and form.validate():
            check = _record(session, form, community, viewer)
            if check is not None:
                return redirect(url_for("exposure.check_record", check_id=check.id), 303)
        elif community is None:
            form.form_errors.append("Choose a community first.")
        status = 400
    norms, members = _choices(session, community) if community is not None else ([], [])
    page = render_template(
        "exposure/check.html",
        form=form,
        communities=my_communities(session, viewer),
        community=community,
        norms=norms,
        members=members,
    )
    return page, status


def _record_page(session: Session, check: ExposureCheck, viewer: User, reply_form, status=200):
    # The facts behind the stored answer, as the ledger stood when the check was made.
    report = standing(
        session,
        check.norm,
        check.subject,
        as_of=check.as_of or check.created_at,
        timeline_limit=TIMELINE_LIMIT,
    )
    page = render_template(
        "exposure/check_record.html",
        check=check,
        answer=check.answer,
        report=report,
        community=check.norm.community,
        norm=check.norm,
        is_subject=viewer.id == check.subject_id,
        can_reply=check_records.may_reply(session, check, viewer),
        reply_form=reply_form,
        told_you=told.sentence(told.told_you(check.level, check.stale, check.recommendation)),
        advice=told.advice_given(check.recommendation),
        norm_page=norm_page,
    )
    return page, status


@bp.route("/exposure/checks/<id:check_id>")
@login_required
def check_record(check_id: int):
    session = get_session()
    viewer = current_user_or_none()
    check = check_records.get_check(session, check_id, viewer)
    form = ReplyForm(data={"text": check.reply or "", "back": "check"})
    return _record_page(session, check, viewer, form)


@bp.post("/exposure/checks/<id:check_id>/reply")
@login_required
def reply(check_id: int):
    session = get_session()
    viewer = current_user_or_none()
    check = check_records.get_check(session, check_id, viewer)
    if not check_records.may_reply(session, check, viewer):
        raise Forbidden("Only the person checked can reply to a check.")
    form = ReplyForm()
    if form.validate():
        with saving(session, form) as attempt:
            stands = check_records.save_reply(session, check, viewer, form.text.data)
        if attempt.ok:
            flash(
                f"Reply saved: {check.checker.display_name} sees it with the check."
                if stands
                else "Reply taken back.",
                "success",
            )
            if form.back.data == "about-me":
                page = page_number(form.page.data)
                url = url_for("exposure.checks_about_me", page=page if page > 1 else None)
                return redirect(f"{url}#check-{check.id}", 303)
            return redirect(url_for("exposure.check_record", check_id=check.id), 303)
    return _record_page(session, check, viewer, form, status=400)


@bp.route("/exposure/about-me")
@login_required
def checks_about_me():
    session = get_session()
    viewer = current_user_or_none()
    found = check_records.checks_about(
        session, viewer, viewer, page_number(request.args.get("page"))
    )
    return render_template(
        "exposure/about_me.html",
        found=found,
        told_you=lambda c: told.sentence(told.told_you(c.level, c.stale, c.recommendation)),
        advice_given=told.advice_given,
        short_date=told.short_date,
        outsider_line=told.OUTSIDER_LINE,
        norm_page=norm_page,
    )
