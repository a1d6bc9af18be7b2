"""Pages of the remind flow: choose a person, see the check and its one fair action, act;
the reminded person's list and answers; the community's record for stewards.

The rules are in :mod:`normhub.exposure.reminders`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy.exc import IntegrityError

from normhub.accounts.models import User
from normhub.auth import current_user_or_none
from normhub.communities.access import login_required_in_community
from normhub.communities.services import get_visible_community, member_by_id
from normhub.db import get_session
from normhub.errors import DomainError, NotFound
from normhub.exposure import reminders as service
from normhub.exposure.remind_forms import ChoosePersonForm, RemindActionForm, ReminderReplyForm
from normhub.ids import parse_id
from normhub.norms.models import Norm
from normhub.norms.page import load_norm, norm_url
from normhub.pagination import page_number
from normhub.web import saving

bp = Blueprint("remind", __name__)

NORM_URL = "/c/<slug>/norms/<norm_ref>"


# -- The norm page: where the flow starts ----------------------------------------------------


@dataclass
class RemindPanel:
    """The norm page's "Remind someone of this norm" links (by the panel and by each comment)."""

    norm: Norm
    allowed: bool
    viewer_id: int | None

    def url(self, person_id: int | None = None) -> str:
        norm = self.norm
        return url_for(
            "remind.choose", slug=norm.community.slug, norm_ref=norm.slug, person=person_id
        )

    def offers_for(self, author_id: int) -> bool:
        """A link by a comment: only while the norm binds anyone, never to oneself."""
        return self.allowed and self.norm.status == "in_force" and author_id != self.viewer_id


def norm_page_context(session, norm: Norm, viewer: User | None) -> dict:
    allowed = viewer is not None and service.can_remind(session, norm.community, viewer)
    return {"remind_panel": RemindPanel(norm, allowed, viewer.id if viewer else None)}


# -- Choose, check, act -------------------------------------------------------------------


def _reraise_access(error: DomainError | None) -> None:
    """``saving`` turns refusals into form errors; 403 and 404 stay error pages."""
    if error is not None and error.status in (403, 404):
        raise error


def _chosen_from_link(session, community, viewer, members: list[User]) -> User | None:
    """The person a link chose (``?person=``, by a comment): listed if still a member.

    Returns them when they were a member and left, so the page can say so.
    """
    person = member_by_id(session, community, parse_id(request.args.get("person")))
    if person is None or person.id == viewer.id:
        return None
    if service.is_active_member(session, community, person):
        if all(member.id != person.id for member in members):
            members.insert(0, person)
        return None
    return person


@bp.route(f"{NORM_URL}/remind", methods=["GET", "POST"])
@login_required_in_community
def choose(slug: str, norm_ref: str):
    """Page 1 (GET, no writes): choose whom. POST: the check runs and is recorded."""
    session, community, norm = load_norm(slug, norm_ref)
    viewer = current_user_or_none()
    service.require_remind(session, community, viewer)
    form = ChoosePersonForm()
    search = " ".join(request.args.get("q", "").split())[:100]
    members, total = service.remindable_members(session, community, viewer, search)
    absent = None
    if request.method == "GET":
        absent = _chosen_from_link(session, community, viewer, members)
    form.person.choices = [("", "Choose…")] + [(str(u.id), u.display_name) for u in members]
    if request.method == "GET" and request.args.get("person"):
        form.person.data = request.args["person"]
    if form.validate_on_submit():
        person = member_by_id(session, community, parse_id(form.person.data))
        with saving(session, form) as attempt:
            check = service.check_before_reminding(session, viewer, norm, person)
        _reraise_access(attempt.error)
        if attempt.ok:
            return redirect(
                url_for("remind.checked", slug=slug, norm_ref=norm.slug, check_id=check.id), 303
            )
    return render_template(
        "exposure/remind_choose.html",
        community=community,
        norm=norm,
        form=form,
        search=search,
        members=members,
        total=total,
        absent=absent,
        norm_page=norm_url,
    ), (400 if request.method == "POST" else 200)


_TEXT_LABELS = {"share": "A short personal message", "reminder": "Your note"}


def _render_check(norm: Norm, checked: service.CheckedAction, form, status: int = 200):
    # The form says again what the check allows, whatever a refused one claimed.
    form.kind.data = checked.action or ""
    form.text.label.text = _TEXT_LABELS.get(checked.action, "Your note")
    return render_template(
        "exposure/remind_check.html",
        community=norm.community,
        norm=norm,
        checked=checked,
        report=checked.standing,
        form=form,
        norm_page=norm_url,
    ), status


@bp.route(f"{NORM_URL}/remind/<id:check_id>")
@login_required_in_community
def checked(slug: str, norm_ref: str, check_id: int):
    """What the check found, and the one action it allows (no writes)."""
    session, _community, norm = load_norm(slug, norm_ref)
    result = service.checked_action(session, current_user_or_none(), norm, check_id)
    form = RemindActionForm(formdata=None, check_id=str(check_id))
    return _render_check(norm, result, form)


_DONE = {
    "reminder": "Your reminder is recorded. {name} sees it on their reminders page and can answer.",
    "share": "Shared. {name} gets an email with the norm; the ledger records it as sent to them.",
    "share-no-mail": (
        "Shared. Mail to {name}'s address is blocked, so no email went out; "
        "they see it on their reminders page."
    ),
}


@bp.post(f"{NORM_URL}/remind/act")
@login_required_in_community
def act(slug: str, norm_ref: str):
    """Share or remind: decided again from the recorded check the form names."""
    session, _community, norm = load_norm(slug, norm_ref)
    viewer = current_user_or_none()
    form = RemindActionForm()
    check_id = parse_id(form.check_id.data)
    if check_id is None:
        raise NotFound("There is no such check.")
    # Not someone else's check, not a stranger: an error page, before anything else.
    service.checked_action(session, viewer, norm, check_id)
    back = url_for("remind.checked", slug=slug, norm_ref=norm.slug, check_id=check_id)
    status = 400
    if form.validate_on_submit():
        try:
            with saving(session, form) as attempt:
                taken = service.act_on_check(
                    session, viewer, norm, check_id, form.kind.data, form.text.data
                )
        except IntegrityError:  # the same form sent twice at once: the first one counts
            session.rollback()
            flash("You already acted on this check.", "info")
            return redirect(back, 303)
        _reraise_access(attempt.error)
        if attempt.ok:
            flash(_DONE[taken.outcome].format(name=taken.reminder.to_user.display_name), "success")
            return redirect(back, 303)
        status = attempt.error.status
    result = service.checked_action(session, viewer, norm, check_id)
    return _render_check(norm, result, form, status)


# -- The reminded person ----------------------------------------------------------------------


def _reply_forms(page) -> dict[int, ReminderReplyForm]:
    return {
        item.reminder.id: ReminderReplyForm(formdata=None, prefix=f"r{item.reminder.id}")
        for item in page.items
        if item.can_reply
    }


def _render_mine(page, forms, status: int = 200):
    return render_template(
        "exposure/reminders_to_me.html", page=page, forms=forms, norm_page=norm_url
    ), status


@bp.route("/exposure/reminders")
@login_required
def reminders_to_me():
    session = get_session()
    page = service.reminders_to(
        session,
        current_user_or_none(),
        page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
    )
    return _render_mine(page, _reply_forms(page))


@bp.post("/exposure/reminders/<id:reminder_id>/reply")
@login_required
def reply(reminder_id: int):
    session = get_session()
    viewer = current_user_or_none()
    form = ReminderReplyForm(prefix=f"r{reminder_id}")
    status = 400
    if form.validate_on_submit():
        with saving(session, form) as attempt:
            service.reply_to_reminder(session, viewer, reminder_id, form.reply.data)
        _reraise_access(attempt.error)
        if attempt.ok:
            flash(
                "Your answer is saved. Whoever reminded you, and the community's stewards, "
                "can read it.",
                "success",
            )
            return redirect(url_for("remind.reminders_to_me") + f"#reminder-{reminder_id}", 303)
        status = attempt.error.status
        if attempt.error.field is None:  # answered already: the form is gone from the page
            flash(attempt.error.message, "error")
    # Show the list again, this answer with its errors, on the page that holds it.
    per_page = current_app.config["PAGE_SIZE"]
    number = service.page_of_reminder(session, viewer, reminder_id, per_page)
    page = service.reminders_to(session, viewer, number, per_page)
    forms = _reply_forms(page)
    forms[reminder_id] = form
    return _render_mine(page, forms, status)


# -- The community's record, for stewards ---------------------------------------------------


@bp.route("/c/<slug>/reminders")
@login_required_in_community
def community_reminders(slug: str):
    session = get_session()
    viewer = current_user_or_none()
    community = get_visible_community(session, slug, viewer)
    page = service.community_reminders(
        session,
        viewer,
        community,
        page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "exposure/community_reminders.html",
        community=community,
        page=page,
        rate=service.remind_rate(session, community),
        norm_page=norm_url,
    )
