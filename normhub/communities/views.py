"""Community list, the norm index of a community, membership, invites and settings."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required

from normhub.accounts.models import User
from normhub.auth import current_user_or_none, require
from normhub.communities import invites as invite_links
from normhub.communities import services
from normhub.communities.forms import CommunityForm, RoleForm, SettingsForm
from normhub.db import get_session
from normhub.errors import DomainError, NotFound
from normhub.web import saving

bp = Blueprint("communities", __name__)


@bp.route("/communities/new", methods=["GET", "POST"])
@login_required
def create():
    form = CommunityForm()
    if form.validate_on_submit():
        session = get_session()
        with saving(session, form) as attempt:
            community = services.create_community(
                session,
                current_user_or_none(),
                form.name.data,
                slug=form.slug.data or None,
                description=(form.description.data or "").strip(),
                visibility=form.visibility.data,
                join_policy=form.join_policy.data,
            )
        if attempt.ok:
            flash("Your community is ready. You are its admin.", "success")
            return redirect(url_for("forum.community", slug=community.slug))
    status = 400 if request.method == "POST" else 200
    return render_template("communities/create.html", form=form), status


@bp.route("/c/<slug>/join", methods=["POST"])
def join(slug: str):
    session, viewer, community = _community_for_user(slug)
    if services.active_membership(session, community, viewer) is not None:
        flash(f"You are already a member of {community.name}.", "info")
        return redirect(url_for("forum.community", slug=community.slug))
    try:
        services.join_open(session, community, viewer)
    except DomainError as error:
        if error.status == 403:
            raise
        flash(error.message, "error")
    else:
        session.commit()
        flash(f"Welcome to {community.name}.", "success")
    return redirect(url_for("forum.community", slug=community.slug))


@bp.route("/c/<slug>/leave", methods=["POST"])
def leave(slug: str):
    session, viewer, community = _community_for_user(slug)
    try:
        services.leave(session, community, viewer)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("forum.community", slug=community.slug))
    session.commit()
    flash(f"You left {community.name}.", "info")
    # A members-only community is now invisible to the one who left.
    if services.can_view(community, None, viewer):
        return redirect(url_for("forum.community", slug=community.slug))
    return redirect(url_for("home.index"))


def _community_for_user(slug: str):
    """(session, viewer, community) for pages that need a login.

    The visibility check comes first, so a members-only community is a 404 for
    everyone outside it, logged in or not; only then are visitors asked to log in.
    """
    session = get_session()
    viewer = current_user_or_none()
    community = services.get_visible_community(session, slug, viewer)
    if viewer is None:
        back = request.path if request.method == "GET" else url_for("forum.community", slug=slug)
        abort(redirect(url_for("accounts.login", next=back)))
    return session, viewer, community


def _managed_community(slug: str):
    session, viewer, community = _community_for_user(slug)
    require(services.can_manage(session, community, viewer))
    return session, viewer, community


@bp.route("/c/<slug>/invites", methods=["GET", "POST"])
def invites(slug: str):
    session, viewer, community = _managed_community(slug)
    if request.method == "POST":
        invite = invite_links.create_invite(session, community, viewer)
        session.commit()
        flash("New invite link created. Send it to the people you want to invite.", "success")
        return redirect(url_for("communities.invites", slug=community.slug, new=invite.id))
    return render_template(
        "communities/invites.html",
        community=community,
        invites=invite_links.list_invites(session, community),
        new_invite_id=request.args.get("new", type=int),
    )


@bp.route("/c/<slug>/invites/<id:invite_id>/revoke", methods=["POST"])
def revoke_invite(slug: str, invite_id: int):
    session, viewer, community = _managed_community(slug)
    invite = invite_links.get_invite(session, community, invite_id)
    invite_links.revoke_invite(session, invite, viewer)
    session.commit()
    flash("The invite link is revoked; it no longer lets anyone join.", "info")
    return redirect(url_for("communities.invites", slug=community.slug))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invite(token: str):
    session = get_session()
    viewer = current_user_or_none()
    found = invite_links.find_usable_invite(session, token)
    community = found.community
    membership = services.active_membership(session, community, viewer)
    if request.method == "POST":
        if viewer is None:
            return redirect(url_for("accounts.login", next=request.path))
        if membership is None:
            invite_links.join_by_invite(session, token, viewer)
            session.commit()
            flash(f"Welcome to {community.name}.", "success")
        return redirect(url_for("forum.community", slug=community.slug))
    return render_template(
        "communities/invite.html", invite=found, community=community, membership=membership
    )


def _settings_values(form: SettingsForm) -> services.CommunitySettings:
    return services.CommunitySettings(
        name=form.name.data or "",
        description=form.description.data or "",
        visibility=form.visibility.data,
        join_policy=form.join_policy.data,
        coverage_threshold_pct=form.coverage_threshold_pct.data,
        coverage_min_responses=form.coverage_min_responses.data,
        max_open_norms=form.max_open_norms.data,
        max_open_per_author=form.max_open_per_author.data,
        hide_tallies_until_answered=form.hide_tallies_until_answered.data,
        reread_months=form.reread_months.data,
    )


@bp.route("/c/<slug>/settings", methods=["GET", "POST"])
def settings(slug: str):
    session, viewer, community = _managed_community(slug)
    form = SettingsForm(obj=community) if request.method == "GET" else SettingsForm()
    if form.validate_on_submit():
        with saving(session, form) as attempt:
            services.update_settings(session, community, viewer, _settings_values(form))
        if attempt.ok:
            flash("Community settings saved.", "success")
            return redirect(url_for("communities.settings", slug=community.slug))
    status = 400 if request.method == "POST" else 200
    can_manage_roles = services.can_manage_roles(session, community, viewer)
    members = services.list_members(session, community)
    role_forms = {
        m.user_id: RoleForm(formdata=None, role=m.role, prefix=f"m{m.user_id}") for m in members
    }
    return (
        render_template(
            "communities/settings.html",
            community=community,
            form=form,
            members=members,
            role_forms=role_forms,
            can_manage_roles=can_manage_roles,
        ),
        status,
    )


@bp.route("/c/<slug>/members/<id:user_id>/role", methods=["POST"])
def set_role(slug: str, user_id: int):
    session, viewer, community = _community_for_user(slug)
    require(services.can_manage_roles(session, community, viewer))
    member = session.get(User, user_id)
    if member is None:
        raise NotFound("No such member.")
    form = RoleForm(prefix=f"m{user_id}")
    if not form.validate_on_submit():
        flash("Choose one of the listed roles.", "error")
    else:
        try:
            services.set_role(session, community, viewer, member, form.role.data)
        except DomainError as error:
            if error.status in (403, 404):
                raise
            flash(error.message, "error")
        else:
            session.commit()
            flash(f"{member.display_name} is now {form.role.data}.", "success")
    return redirect(url_for("communities.settings", slug=community.slug) + "#members")
