"""Norm pages: propose, edit, read, versions, diffs and status changes."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from normhub.auth import current_user_or_none, require
from normhub.communities.access import login_required_in_community
from normhub.communities.services import get_visible_community
from normhub.db import get_session
from normhub.ids import parse_id
from normhub.norms import page, prerequisites, reread, services
from normhub.norms.diff import diff_versions
from normhub.norms.forms import EditNormForm, NormForm, RereadForm
from normhub.norms.models import NormVersion
from normhub.norms.page import NORM_URL, load_norm, norm_url
from normhub.web import draft_sent, is_page_visit, saving

bp = Blueprint("norms", __name__)


@bp.route("/c/<slug>/norms/new", methods=["GET", "POST"])
@login_required_in_community
def new(slug: str):
    session = get_session()
    viewer = current_user_or_none()
    community = get_visible_community(session, slug, viewer)
    require(services.can_propose(session, community, viewer))
    form = NormForm()
    page = {
        "form": form,
        "community": community,
        "norm": None,
        "norm_choices": prerequisites.norm_choices(session, community),
    }
    if request.method == "GET":
        form.add_blank_rows()
        return render_template("norms/form.html", **page)
    if form.add_rows.data:
        form.add_blank_rows()
        return render_template("norms/form.html", **page)
    if form.validate():
        with saving(session, form) as attempt:
            builds_on = prerequisites.resolve_norm_refs(session, community, form.prerequisites.data)
            norm = services.create_norm(session, community, viewer, form.to_draft())
            services.set_prerequisites(session, norm, viewer, builds_on)
        if attempt.ok:
            draft_sent(request.path)
            flash(
                "Saved as a draft. Open it for discussion when you are ready for readers.",
                "success",
            )
            return redirect(norm_url(norm))
    return render_template("norms/form.html", **page), 400


@bp.route(f"{NORM_URL}/edit", methods=["GET", "POST"])
@login_required_in_community
def edit(slug: str, norm_ref: str):
    session, community, norm = load_norm(slug, norm_ref)
    viewer = current_user_or_none()
    require(services.can_edit(session, norm, viewer))
    version = session.get(NormVersion, norm.current_version_id)
    form = EditNormForm()
    page = {
        "form": form,
        "community": community,
        "norm": norm,
        "version": version,
        "norm_choices": prerequisites.norm_choices(session, community, leaving_out=norm),
    }
    if request.method == "GET":
        form.title.data = version.title
        form.summary.data = version.summary
        form.body.data = version.body
        form.tags.data = ", ".join(norm.tag_names)
        form.prerequisites.data = prerequisites.names_of(
            session, community, services.list_prerequisites(session, norm)
        )
        form.load_assumptions(version.assumptions)
        return render_template("norms/form.html", **page)
    if form.add_rows.data:
        form.add_blank_rows()
        return render_template("norms/form.html", **page)
    if form.validate():
        with saving(session, form) as attempt:
            builds_on = prerequisites.resolve_norm_refs(session, community, form.prerequisites.data)
            new_version = services.revise_norm(
                session,
                norm,
                viewer,
                form.to_draft(),
                form.change_summary.data or "",
                form.is_material,
            )
            services.set_prerequisites(session, norm, viewer, builds_on)
        if attempt.ok:
            draft_sent(request.path)
            if new_version is None:
                flash("Saved. The text is unchanged, so there is no new version.", "info")
            else:
                kind = "material" if new_version.is_material else "minor"
                flash(f"Saved version {new_version.number} ({kind} change).", "success")
            return redirect(norm_url(norm))
    return render_template("norms/form.html", **page), 400


@bp.route(NORM_URL)
def show(slug: str, norm_ref: str):
    session, community, norm = load_norm(slug, norm_ref)
    viewer = current_user_or_none()
    # "Opened" means a person opened the page: not an <img> or a prefetch of it.
    if viewer is not None and request.method == "GET" and is_page_visit(request):
        page.record_opened(session, norm, viewer)
    return page.render_norm_page(session, community, norm)


@bp.route(f"{NORM_URL}/status", methods=["POST"])
@login_required_in_community
def change_status(slug: str, norm_ref: str):
    session, community, norm = load_norm(slug, norm_ref)
    to_status = request.form.get("to_status", "")
    status_before = norm.status
    with saving(session) as attempt:
        services.change_status(
            session, norm, current_user_or_none(), to_status, request.form.get("note", "")
        )
    if attempt.ok and to_status == status_before:
        flash(f"Version {norm.in_force_version_number} is now in force.", "success")
    elif attempt.ok:
        flash(f"The norm is now: {norm.status_label.lower()}.", "success")
    return redirect(norm_url(norm))


@bp.route(f"{NORM_URL}/reread", methods=["POST"])
@login_required_in_community
def reread_period(slug: str, norm_ref: str):
    session, community, norm = load_norm(slug, norm_ref)
    viewer = current_user_or_none()
    require(reread.can_set_reread(session, norm, viewer))
    form = RereadForm()
    if form.validate():
        with saving(session, form) as attempt:
            reread.set_reread_months(session, norm, viewer, form.reread.data, form.months.data)
        if attempt.ok:
            flash("Saved how often this norm asks to be read again.", "success")
    for errors in form.errors.values():
        for error in errors:
            flash(error, "error")
    # The setting sits on the coverage page, with who has read the norm.
    return redirect(url_for("exposure.coverage", slug=community.slug, norm_ref=norm.slug), 303)


@bp.route(f"{NORM_URL}/versions")
def versions(slug: str, norm_ref: str):
    session, community, norm = load_norm(slug, norm_ref)
    return render_template(
        "norms/versions.html",
        community=community,
        norm=norm,
        versions=services.list_versions(session, norm),
    )


@bp.route(f"{NORM_URL}/v/<id:number>")
def version(slug: str, norm_ref: str, number: int):
    session, community, norm = load_norm(slug, norm_ref)
    shown = services.get_version(session, norm, number)
    return render_template("norms/version.html", community=community, norm=norm, version=shown)


def _version_number(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    number = parse_id(raw)
    if number is None:
        abort(400, description=f"“{name}” must be a version number, like 1 or 2.")
    return number


@bp.route(f"{NORM_URL}/diff")
def diff(slug: str, norm_ref: str):
    session, community, norm = load_norm(slug, norm_ref)
    to_number = _version_number("to")
    if to_number is None:
        to_number = norm.current_version_number
    from_number = _version_number("from")
    if from_number is None:
        from_number = to_number - 1
        if from_number < 1:
            abort(
                404, description="This is the first version: there is nothing earlier to compare."
            )
    if from_number == to_number:
        abort(400, description="Pick two different versions to compare.")
    old = services.get_version(session, norm, from_number)
    new = services.get_version(session, norm, to_number)
    return render_template(
        "norms/diff.html",
        community=community,
        norm=norm,
        old=old,
        new=new,
        changes=diff_versions(old, new),
        versions=services.list_versions(session, norm),
    )
