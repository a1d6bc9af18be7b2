"""Recording a reader's response, and their own response history."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template
from flask_login import login_required

from normhub.auth import current_user_or_none, require
from normhub.norms.models import Norm, NormVersion
from normhub.norms.page import NORM_URL, load_norm, norm_url, render_norm_page
from normhub.responses import services
from normhub.responses.forms import ResponseForm
from normhub.web import saving

bp = Blueprint("responses", __name__)


def norm_page_panel(session, norm: Norm, viewer, version: NormVersion, forms: dict) -> dict:
    """The norm page's responses: the tally, the viewer's last answer and the form."""
    latest = services.latest_response(session, norm, viewer)
    can_respond = services.can_respond(session, norm, viewer)
    response_form = forms.get("response")
    if can_respond and response_form is None:
        response_form = ResponseForm(formdata=None)
        on_current = latest is not None and latest.version_id == version.id
        response_form.load(version, latest if on_current else None)
    answered_version = None
    if latest is not None and latest.version_id != version.id:
        answered_version = session.get(NormVersion, latest.version_id)
    return {
        "aggregate": services.aggregate_responses(session, norm),
        "latest_response": latest,
        "answered_version": answered_version,
        "can_respond": can_respond,
        "response_form": response_form if can_respond else None,
        "answer_rows": list(
            zip(version.assumptions, response_form.assumptions.entries, strict=False)
        )
        if can_respond
        else [],
    }


@bp.route(f"{NORM_URL}/respond", methods=["POST"])
@login_required
def respond(slug: str, norm_ref: str):
    session, community, norm = load_norm(slug, norm_ref)
    viewer = current_user_or_none()
    require(services.can_respond(session, norm, viewer))
    form = ResponseForm()
    version = session.get(NormVersion, norm.current_version_id)
    if form.validate():
        if not form.matches(version):
            # Keep what they wrote in the overall answer, but the rows belong
            # to the old version: show the new assumptions, unanswered.
            overall = (form.understood.data, form.endorsement.data, form.reason.data)
            form.load(version)
            form.understood.data, form.endorsement.data, form.reason.data = overall
            form.form_errors.append(
                f"The norm changed to version {version.number} while you were reading. "
                "Check what changed and answer again."
            )
            return render_norm_page(session, community, norm, {"response": form}, status=409)
        with saving(session, form) as attempt:
            services.record_response(
                session,
                norm,
                viewer,
                form.understood.data or "",
                form.endorsement.data or "",
                form.reason.data or "",
                form.answers(),
            )
        if attempt.ok:
            flash("Your response is recorded. You can change it at any time.", "success")
            return redirect(norm_url(norm) + "#respond")
    return render_norm_page(session, community, norm, {"response": form}, status=400)


@bp.route(f"{NORM_URL}/my-responses")
@login_required
def history(slug: str, norm_ref: str):
    session, community, norm = load_norm(slug, norm_ref)
    return render_template(
        "responses/history.html",
        community=community,
        norm=norm,
        history=services.response_history(session, norm, current_user_or_none()),
    )
