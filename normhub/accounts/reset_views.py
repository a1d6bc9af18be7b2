"""Forgot your password? Ask for a link by email, then choose a new password with it.

Asking gives the same answer whether or not an account uses the address, so
the form cannot be used to find out who has an account here.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_user

from normhub.accounts import reset, services
from normhub.accounts.emails import send_password_reset_email
from normhub.accounts.forms import ForgotPasswordForm, NewPasswordForm
from normhub.db import get_session
from normhub.urls import absolute_url
from normhub.web import saving

bp = Blueprint("password_reset", __name__, url_prefix="/password")

# The link is a credential: no Referer carries it off the page, no cache keeps the page.
_PRIVATE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _reset_link(token: str) -> str:
    # BASE_URL, never the request's Host header: a forged Host must not get a
    # link to another site mailed to the victim.
    return absolute_url("password_reset.reset_password", token=token)


@bp.route("/forgot", methods=["GET", "POST"])
def forgot():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        session = get_session()
        user = services.find_user_by_email(session, form.email.data)
        if user is not None:
            token = reset.make_token(current_app.secret_key, user)
            send_password_reset_email(session, user, _reset_link(token))
            session.commit()
        # The same answer whether or not the address has an account.
        return redirect(url_for(".sent"))
    status = 400 if form.errors else 200
    return render_template("accounts/forgot_password.html", form=form), status


@bp.get("/forgot/sent")
def sent():
    return render_template("accounts/reset_sent.html")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    session = get_session()
    try:
        user = reset.user_for_token(
            session, current_app.secret_key, token, lock=request.method == "POST"
        )
    except reset.ResetLinkRefused as refused:
        page = render_template("accounts/reset_refused.html", message=refused.message)
        return page, 400, _PRIVATE
    form = NewPasswordForm()
    if form.validate_on_submit():
        with saving(session, form) as attempt:
            # Every login of the account ends; this browser logs in afresh below.
            services.set_password(session, user, form.new_password.data)
        if attempt.ok:
            login_user(user)
            flash(
                "Your password is changed and you are logged in. Every other login ended, "
                "and your API tokens are revoked.",
                "success",
            )
            return redirect(url_for("home.index"))
    status = 400 if form.errors else 200
    return render_template("accounts/reset_password.html", form=form, user=user), status, _PRIVATE
