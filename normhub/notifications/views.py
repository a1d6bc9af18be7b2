"""The notifications page, opening and marking notices, settings per kind, watch levels,
and the one-click unsubscribe of notification emails."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import login_required

from normhub import policy, tokens
from normhub.accounts.models import User
from normhub.auth import csrf, current_user_or_none
from normhub.communities.access import login_required_in_community
from normhub.communities.services import active_membership, get_visible_community
from normhub.db import get_session
from normhub.errors import Forbidden
from normhub.notifications import services
from normhub.notifications.emails import read_unsubscribe_token
from normhub.notifications.kinds import DELIVERIES, KINDS, OFF, WATCH_LEVELS
from normhub.pagination import MAX_PAGE, number_argument
from normhub.web import saving

bp = Blueprint("notifications", __name__)

PER_PAGE = 30


def unread_notifications() -> int:
    """For the bell on every page: one count per request, none for visitors."""
    if "unread_notifications" not in g:
        viewer = current_user_or_none()
        g.unread_notifications = services.unread_count(get_session(), viewer) if viewer else 0
    return g.unread_notifications


@bp.get("/notifications")
@login_required
def index():
    session = get_session()
    unread_only = request.args.get("unread") == "1"
    number = number_argument(request.args.get("page"), "page", 1, 1, MAX_PAGE)
    page = services.notifications_page(
        session, current_user_or_none(), number, PER_PAGE, unread_only=unread_only
    )
    return render_template("notifications/index.html", page=page, unread_only=unread_only)


@bp.post("/notifications/<id:notification_id>/open")
@login_required
def open_notice(notification_id: int):
    """Mark the notice read and go where it leads."""
    session = get_session()
    notification = services.mark_read(session, current_user_or_none(), notification_id)
    target = notification.target
    session.commit()
    return redirect(target, 303)


@bp.post("/notifications/<id:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    session = get_session()
    services.mark_read(session, current_user_or_none(), notification_id)
    session.commit()
    return redirect(url_for("notifications.index"), 303)


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    session = get_session()
    count = services.mark_all_read(session, current_user_or_none())
    session.commit()
    flash(f"Marked {count} notification{'s' if count != 1 else ''} read.", "success")
    return redirect(url_for("notifications.index"), 303)


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
def settings():
    session = get_session()
    user = current_user_or_none()
    status = 200
    if request.method == "POST":
        with saving(session) as attempt:
            for kind in KINDS:
                services.set_delivery(session, user, kind, request.form.get(kind, ""))
        if attempt.ok:
            flash("Your notification settings are saved.", "success")
            return redirect(url_for("notifications.settings"), 303)
        status = 400
    return render_template(
        "notifications/settings.html",
        kinds=KINDS,
        deliveries=DELIVERIES,
        chosen=services.deliveries(session, user),
    ), status


@bp.post("/c/<slug>/watch")
@login_required_in_community
def watch(slug: str):
    session = get_session()
    user = current_user_or_none()
    community = get_visible_community(session, slug, user)
    if not policy.allows("community.watch", active_membership(session, community, user), user):
        raise Forbidden("Only members of this community can choose what they hear from it.")
    with saving(session) as attempt:
        services.set_watch_level(session, user, community, request.form.get("level", ""))
    if attempt.ok:
        flash(f"{community.name}: {WATCH_LEVELS[request.form['level']]}.", "success")
    return redirect(url_for("forum.community", slug=community.slug), 303)


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # mail clients POST here (RFC 8058); the signed token is the credential
def unsubscribe(token: str):
    """GET asks (a link scanner must not unsubscribe anyone); POST stops that kind of email."""
    session = get_session()
    try:
        user_id, kind = read_unsubscribe_token(token)
    except (tokens.TokenExpired, tokens.TokenInvalid):
        return render_template("notifications/unsubscribe.html", invalid=True), 400
    user = session.get(User, user_id)
    if user is None or user.is_deleted:
        return render_template("notifications/unsubscribe.html", invalid=True), 400
    done = request.method == "POST"
    if done:
        services.set_delivery(session, user, kind, OFF)
        session.commit()
    return render_template(
        "notifications/unsubscribe.html", kind=KINDS[kind], token=token, done=done
    )
