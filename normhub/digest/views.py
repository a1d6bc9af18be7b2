"""Digest pages: settings, previews, and one-click unsubscribe (RFC 8058).

Steward preview rule: a steward previewing a member's digest sees only content
from communities the *steward* stewards (and the member is active in), never
the member's other communities, which the steward may not even be able to see.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from normhub.accounts.models import User
from normhub.auth import csrf
from normhub.communities.access import login_required_in_community
from normhub.communities.models import ROLE_RANK, ROLES, Membership
from normhub.communities.services import (
    active_membership,
    get_visible_community,
    is_steward,
)
from normhub.db import get_session
from normhub.digest import preferences as digest_preferences
from normhub.digest.builder import preview_digest
from normhub.digest.content import subject_line
from normhub.digest.forms import chosen, field_name, preferences_form
from normhub.digest.links import Links
from normhub.digest.models import PERIOD_KINDS
from normhub.errors import DomainError, NotFound, ValidationFailed
from normhub.headers import allow_style_attributes_of

bp = Blueprint("digest", __name__)

STEWARD_ROLES = [role for role in ROLES if ROLE_RANK[role] >= ROLE_RANK["steward"]]


def _period(default: str) -> str:
    period = request.args.get("period", default)
    return period if period in PERIOD_KINDS else default


@bp.route("/settings/digest", methods=["GET", "POST"])
@login_required
def preferences():
    session = get_session()
    rows = digest_preferences.list_preferences(session, current_user)
    if request.method == "POST":
        form = preferences_form(rows, formdata=request.form)
        if form.validate():
            changed = digest_preferences.save_preferences(session, current_user, chosen(form, rows))
            get_session().commit()
            flash(
                "Digest settings saved." if changed else "Nothing to change.",
                "success",
            )
            return redirect(url_for("digest.preferences"))
        status = 400
    else:
        form = preferences_form(rows)
        status = 200
    return (
        render_template(
            "digest/preferences.html",
            form=form,
            rows=[(row, form[field_name(row.community.id)]) for row in rows],
            bounce=digest_preferences.bounce_for(session, current_user),
        ),
        status,
    )


@bp.route("/settings/digest/bounce", methods=["POST"])
@login_required
def lift_bounce():
    session = get_session()
    digest_preferences.lift_bounce(session, current_user)
    session.commit()
    flash("We will try your address again with the next digest.", "success")
    return redirect(url_for("digest.preferences"))


@bp.route("/settings/digest/preview")
@login_required
def preview():
    session = get_session()
    period = _period(digest_preferences.default_period(session, current_user))
    digest = preview_digest(session, Links(current_app), current_user, period)
    return _render_preview(
        digest=digest,
        member=current_user,
        period=period,
        steward_view=False,
        community=None,
        subject=subject_line(digest),
    )


@bp.route("/c/<slug>/members/<id:user_id>/digest-preview")
@login_required_in_community
def steward_preview(slug: str, user_id: int):
    session = get_session()
    community = get_visible_community(session, slug, current_user)
    if not is_steward(active_membership(session, community, current_user), current_user):
        abort(403, "Only stewards of this community can preview members' digests.")
    member = session.get(User, user_id)
    if member is None or active_membership(session, community, member) is None:
        raise NotFound("That person is not a member of this community.")
    stewarded = _stewarded_communities(session, current_user, member)
    period = _period(digest_preferences.default_period(session, member))
    digest = preview_digest(
        session, Links(current_app), member, period, community_ids=stewarded, personal=False
    )
    return _render_preview(
        digest=digest,
        member=member,
        period=period,
        steward_view=True,
        community=community,
        subject=subject_line(digest),
    )


def _render_preview(**context) -> str:
    # The preview shows the email's own HTML, whose styles are inline (email clients drop
    # stylesheets): the page's Content-Security-Policy admits exactly those.
    allow_style_attributes_of("email/digest/_body.html")
    return render_template("digest/preview.html", **context)


def _stewarded_communities(session, steward: User, member: User) -> set[int]:
    """Communities ``member`` is active in where ``steward`` is a steward (admins: all)."""
    member_of = select(Membership.community_id).where(
        Membership.user_id == member.id, Membership.left_at.is_(None)
    )
    if steward.is_admin:
        return set(session.scalars(member_of))
    return set(
        session.scalars(
            select(Membership.community_id).where(
                Membership.user_id == steward.id,
                Membership.left_at.is_(None),
                Membership.role.in_(STEWARD_ROLES),
                Membership.community_id.in_(member_of),
            )
        )
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # mail clients POST here (RFC 8058); the signed token is the credential
def unsubscribe(token: str):
    session = get_session()
    try:
        unsubscribe_request = digest_preferences.read_unsubscribe_token(
            current_app.config["SECRET_KEY"], token
        )
        if request.method == "POST":
            communities = digest_preferences.unsubscribe(session, unsubscribe_request)
            session.commit()
            return render_template("digest/unsubscribed.html", communities=communities)
        member = session.get(User, unsubscribe_request.user_id)
        if member is None:
            raise ValidationFailed("This unsubscribe link belongs to an account that is gone.")
        communities = digest_preferences.unsubscribe_targets(session, unsubscribe_request)
    except DomainError as error:
        session.rollback()
        return render_template("digest/unsubscribe_invalid.html", message=error.message), 400
    return render_template("digest/unsubscribe.html", communities=communities, token=token)
