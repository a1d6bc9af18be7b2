"""Recording a reader's response, and their own response history."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request

from normhub.auth import current_user_or_none, require
from normhub.communities.access import login_required_in_community
from normhub.norms.models import Norm, NormVersion
from normhub.norms.page import NORM_URL, load_norm, norm_url, render_norm_page
from normhub.responses import services
from normhub.responses.forms import ResponseForm
from normhub.web import saving

bp = Blueprint("responses", __name__)


def versions_words(first: int, last: int) -> str:
    """ "version 2", "versions 2 and 3", "versions 2 to 5"."""
    if first == last:
        return f"version {first}"
    return f"versions {first} {'and' if last == first + 1 else 'to'} {last}"


def norm_page_panel(session, norm: Norm, viewer, version: NormVersion, forms: dict) -> dict:
    """The norm page's responses: the tally, the viewer's last answer and the form.

    An answer to any version since the latest material one stands (later
    versions changed only wording): it is counted, prefilled, and its author
    told so; an answer to an older text is announced as out of date.
    """
    latest = services.latest_response(session, norm, viewer)
    can_respond = services.can_respond(session, norm, viewer)
    answered = session.get(NormVersion, latest.version_id) if latest is not None else None
    stands = answered is not None and answered.number >= norm.last_material_version_number
    # After a material revision: the earlier answers, by assumption, carried into the form.
    earlier = (
        services.earlier_answers(version, latest)
        if can_respond and answered is not None and not stands
        else []
    )
    response_form = forms.get("response")
    if can_respond and response_form is None:
        response_form = ResponseForm(formdata=None)
        if earlier:
            response_form.carry_over(version, earlier)
        else:
            response_form.load(version, latest if stands else None)
    aggregate = services.aggregate_responses(session, norm)
    counted_note = ""
    if aggregate.counted_from < version.number:
        counted_note = (
            f"Answers to {versions_words(aggregate.counted_from, version.number - 1)} count: "
            f"{versions_words(aggregate.counted_from + 1, version.number)} changed only wording."
        )
    answer_stands_note = ""
    if stands and answered.number < version.number:
        answer_stands_note = (
            f"You answered version {answered.number}; "
            f"{versions_words(answered.number + 1, version.number)} changed only wording, "
            "so your answer stands."
        )
    rows = response_form.assumptions.entries if can_respond else []
    return {
        "aggregate": aggregate,
        "tallies_hidden": tallies_hidden(norm, can_respond, stands),
        "counted_note": counted_note,
        "latest_response": latest,
        "answered_version": answered if answered is not None and not stands else None,
        "answer_stands_note": answer_stands_note,
        "can_respond": can_respond,
        "response_form": response_form if can_respond else None,
        "earlier_response": latest if earlier else None,
        # A form sent back may hold other rows than the version's: zip to the shorter.
        "answer_rows": list(
            zip(version.assumptions, rows, earlier or [None] * len(rows), strict=False)
        ),
    }


def tallies_hidden(norm: Norm, can_respond: bool, stands: bool) -> bool:
    """Whether the page keeps how others answered (the tallies, the crux) from a member
    who has yet to answer this text, as the community asks (``?tallies=1``: they asked)."""
    return (
        norm.community.hide_tallies_until_answered
        and can_respond
        and not stands
        and request.args.get("tallies") != "1"
    )


@bp.route(f"{NORM_URL}/respond", methods=["POST"])
@login_required_in_community
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
@login_required_in_community
def history(slug: str, norm_ref: str):
    session, community, norm = load_norm(slug, norm_ref)
    return render_template(
        "responses/history.html",
        community=community,
        norm=norm,
        history=services.response_history(session, norm, current_user_or_none()),
    )
