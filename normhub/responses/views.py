"""Recording a reader's response, and their own response history."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template
from flask_login import login_required

from normhub.auth import current_user_or_none, require
from normhub.errors import DomainError
from normhub.norms.models import NormVersion
from normhub.norms.views import NORM_URL, load_norm, norm_url, render_norm_page
from normhub.responses import services
from normhub.responses.forms import ResponseForm
from normhub.web import attach_error

bp = Blueprint("responses", __name__)


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
            return render_norm_page(session, community, norm, form, status=409)
        try:
            services.record_response(
                session,
                norm,
                viewer,
                form.understood.data or "",
                form.endorsement.data or "",
                form.reason.data or "",
                form.answers(),
            )
        except DomainError as error:
            session.rollback()
            attach_error(form, error)
        else:
            session.commit()
            flash("Your response is recorded. You can change it at any time.", "success")
            return redirect(norm_url(norm) + "#respond")
    return render_norm_page(session, community, norm, form, status=400)


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
