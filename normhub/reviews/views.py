"""The review pages: a round (answer it, see how it stands, decide it), the periods,
and the norm page's review panel."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import select

from normhub.auth import current_user_or_none, require
from normhub.communities.access import login_required_in_community
from normhub.communities.services import get_visible_community
from normhub.db import get_session
from normhub.norms.page import NORM_URL, load_norm, norm_url
from normhub.reviews import schedule, services
from normhub.reviews.forms import OUTCOME_CHOICES, DecideForm, PeriodForm, ReviewAnswerForm
from normhub.reviews.models import PERIOD_MAX_DAYS, PERIOD_MIN_DAYS, NormReview
from normhub.web import saving

bp = Blueprint("reviews", __name__)

REVIEW_URL = f"{NORM_URL}/reviews/<id:review_id>"
# Rounds the norm page looks at: the open one and the last decided one are among them.
PANEL_ROUNDS = 3


def review_url(norm, review: NormReview, anchor: str | None = None) -> str:
    return url_for(
        "reviews.show",
        slug=norm.community.slug,
        norm_ref=norm.slug,
        review_id=review.id,
        _anchor=anchor,
    )


def _load(slug: str, norm_ref: str, review_id: int):
    session, community, norm = load_norm(slug, norm_ref)
    return session, community, norm, services.get_review(session, norm, review_id)


def _render(session, community, norm, review, forms: dict | None = None, status: int = 200):
    viewer = current_user_or_none()
    forms = forms or {}
    version = services.reviewed_version(session, review)
    own = services.own_answer(session, review, viewer)
    can_answer = services.can_answer(session, review, viewer)
    answer_form = forms.get("answer")
    if can_answer and answer_form is None:
        answer_form = ReviewAnswerForm(formdata=None)
        answer_form.load(version, own)
    outcomes = services.outcomes_for(session, norm, viewer) if review.is_open else ()
    decide_form = forms.get("decide") or (DecideForm(formdata=None) if outcomes else None)
    if decide_form is not None:
        decide_form.outcome.choices = [c for c in OUTCOME_CHOICES if c.value in outcomes]
    # First answers are not anchored by the crowd's: the counts show once the round is
    # decided, to those who decide it, and to those who answered.
    shows_tallies = not review.is_open or bool(outcomes) or own is not None
    rows = answer_form.assumptions.entries if answer_form is not None else []
    return (
        render_template(
            "reviews/show.html",
            community=community,
            norm=norm,
            review=review,
            version=version,
            own_answer=own,
            answer_form=answer_form if can_answer else None,
            answer_rows=list(zip(version.assumptions, rows, strict=False)),
            decide_form=decide_form,
            tallies=services.tallies(session, review, version) if shows_tallies else None,
            evidence=services.evidence_given(session, review) if outcomes else [],
            statements={a.id: a.statement for a in version.assumptions},
        ),
        status,
    )


@bp.route(REVIEW_URL)
def show(slug: str, norm_ref: str, review_id: int):
    session, community, norm, review = _load(slug, norm_ref, review_id)
    return _render(session, community, norm, review)


@bp.route(f"{REVIEW_URL}/answer", methods=["POST"])
@login_required_in_community
def answer(slug: str, norm_ref: str, review_id: int):
    session, community, norm, review = _load(slug, norm_ref, review_id)
    viewer = current_user_or_none()
    require(services.can_answer(session, review, viewer) or not review.is_open)
    if not review.is_open:
        flash(services.CLOSED, "error")
        return redirect(review_url(norm, review))
    form = ReviewAnswerForm()
    if form.validate():
        with saving(session, form) as attempt:
            services.record_answer(
                session,
                review,
                viewer,
                form.worked.data,
                form.evidence.data or "",
                form.verdicts(),
            )
        if attempt.ok:
            flash("Your answer is recorded. You can change it while the review is open.", "success")
            return redirect(review_url(norm, review, "tallies"))
    return _render(session, community, norm, review, {"answer": form}, status=400)


@bp.route(f"{REVIEW_URL}/decide", methods=["POST"])
@login_required_in_community
def decide(slug: str, norm_ref: str, review_id: int):
    session, community, norm, review = _load(slug, norm_ref, review_id)
    viewer = current_user_or_none()
    require(services.may_decide(session, norm, viewer))
    if not review.is_open:
        flash(services.CLOSED, "error")
        return redirect(review_url(norm, review))
    form = DecideForm()
    if form.validate():
        with saving(session, form) as attempt:
            services.decide(session, review, viewer, form.outcome.data, form.note.data or "")
        if attempt.ok:
            flash(f"The review is decided: {review.outcome_label.lower()}.", "success")
            return redirect(norm_url(norm, "review"))
    return _render(session, community, norm, review, {"decide": form}, status=400)


def _period_problem(form: PeriodForm) -> None:
    form.period_days.errors = [*form.period_days.errors, schedule.PERIOD_PROBLEM]


@bp.route(f"{NORM_URL}/review-period", methods=["POST"])
@login_required_in_community
def norm_period(slug: str, norm_ref: str):
    session, _community, norm = load_norm(slug, norm_ref)
    viewer = current_user_or_none()
    require(schedule.can_schedule(session, norm, viewer))
    form = PeriodForm()
    if form.validate():
        try:
            days = form.days(blank_allowed=True)
        except ValueError:
            flash(schedule.PERIOD_PROBLEM, "error")
            return redirect(norm_url(norm, "review"))
        with saving(session) as attempt:
            schedule.set_norm_period(session, norm, viewer, days)
        if attempt.ok:
            flash("The review period is saved.", "success")
    else:
        flash("The form expired. Please try again.", "error")
    return redirect(norm_url(norm, "review"))


@bp.route("/c/<slug>/review-settings", methods=["GET", "POST"])
@login_required_in_community
def community_period(slug: str):
    session = get_session()
    viewer = current_user_or_none()
    community = get_visible_community(session, slug, viewer)
    require(schedule.can_manage(session, community, viewer))
    form = PeriodForm()
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            try:
                days = form.days(blank_allowed=False)
            except ValueError:
                _period_problem(form)
            else:
                with saving(session, form) as attempt:
                    schedule.set_community_period(session, community, viewer, days)
                if attempt.ok:
                    flash("The review period is saved.", "success")
                    return redirect(url_for("reviews.community_period", slug=community.slug))
    else:
        form.period_days.data = str(schedule.community_period(session, community))
    return (
        render_template(
            "reviews/settings.html",
            community=community,
            form=form,
            min_days=PERIOD_MIN_DAYS,
            max_days=PERIOD_MAX_DAYS,
        ),
        status,
    )


# -- The norm page's panel --------------------------------------------------------------------


def norm_page_panel(session, norm, viewer, _version, _forms: dict) -> dict:
    """Where the norm stands with its reviews: the next date, the open round, the last
    outcome with each assumption's result; the period form for stewards."""
    rounds = list(
        session.scalars(
            select(NormReview)
            .where(NormReview.norm_id == norm.id)
            .order_by(NormReview.id.desc())
            .limit(PANEL_ROUNDS)
        )
    )
    plan = schedule.schedule_of(session, norm)
    if not rounds and norm.status != "in_force":
        return {"review_panel": None}
    open_round = next((r for r in rounds if r.is_open), None)
    last = next((r for r in rounds if r.outcome is not None), None)
    can_schedule = schedule.can_schedule(session, norm, viewer)
    period_form = None
    if can_schedule:
        period_form = PeriodForm(formdata=None)
        if plan is not None and plan.period_days is not None:
            period_form.period_days.data = str(plan.period_days)
    return {
        "review_panel": {
            "next_review_at": plan.next_review_at if plan is not None else None,
            "period_days": schedule.period_for(session, norm, plan),
            "own_period": plan is not None and plan.period_days is not None,
            "open_round": open_round,
            "last": last,
            "last_tallies": services.tallies(session, last) if last is not None else None,
            "is_author": viewer is not None and viewer.id == norm.author_id,
            "period_form": period_form,
        }
    }
