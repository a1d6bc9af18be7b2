"""Register, log in and out, edit your profile, and see what a member has done."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required, login_user, logout_user

from normhub.accounts import services
from normhub.accounts.forms import LoginForm, PasswordForm, ProfileForm, RegisterForm
from normhub.auth import current_user_or_none
from normhub.db import get_session
from normhub.errors import DomainError
from normhub.web import attach_error, saving

bp = Blueprint("accounts", __name__)

BAD_CREDENTIALS = "That email and password do not match an account."


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    next_url = safe_next(request.values.get("next"))
    if current_user_or_none() is not None and request.method == "GET":
        return redirect(next_url or url_for("forum.index"))
    status = 200
    if form.validate_on_submit():
        session = get_session()
        user = services.authenticate(session, form.email.data, form.password.data)
        if user is not None:
            session.commit()  # a rehashed password is saved
            login_user(user)
            return redirect(next_url or url_for("forum.index"))
        form.form_errors.append(BAD_CREDENTIALS)
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("accounts/login.html", form=form, next_url=next_url), status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("forum.index"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    status = 200
    if form.validate_on_submit():
        session = get_session()
        try:
            user = services.register_user(
                session, form.email.data, form.display_name.data, form.password.data
            )
        except DomainError as error:
            attach_error(form, error)
            status = 400
        else:
            session.commit()
            login_user(user)
            flash("Welcome to NormHub. Your account is ready.", "success")
            return redirect(safe_next(request.values.get("next")) or url_for("forum.index"))
    elif request.method == "POST":
        status = 400
    return render_template("accounts/register.html", form=form), status


def _settings_page(profile_form: ProfileForm, password_form: PasswordForm, status: int = 200):
    links = [
        (endpoint, label)
        for endpoint, label in (
            ("api.tokens", "API tokens"),
            ("digest.preferences", "Email digest"),
            ("exposure.checks_about_me", "Checks about me"),
        )
        if endpoint in current_app.view_functions
    ]
    return (
        render_template(
            "accounts/settings.html",
            profile_form=profile_form,
            password_form=password_form,
            links=links,
        ),
        status,
    )


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    user = current_user_or_none()
    profile_form = ProfileForm(obj=user) if request.method == "GET" else ProfileForm()
    password_form = PasswordForm(formdata=None)
    if request.method == "GET":
        return _settings_page(profile_form, password_form)
    if profile_form.validate_on_submit():
        session = get_session()
        with saving(session, profile_form) as attempt:
            services.update_profile(
                session, user, profile_form.display_name.data, profile_form.bio.data or ""
            )
        if attempt.ok:
            flash("Your profile is saved.", "success")
            return redirect(url_for("accounts.settings"))
    return _settings_page(profile_form, password_form, 400)


@bp.route("/settings/password", methods=["POST"])
@login_required
def change_password():
    user = current_user_or_none()
    password_form = PasswordForm()
    if password_form.validate_on_submit():
        session = get_session()
        with saving(session, password_form) as attempt:
            services.change_password(
                session,
                user,
                password_form.current_password.data,
                password_form.new_password.data,
            )
        if attempt.ok:
            flash("Your password is changed.", "success")
            return redirect(url_for("accounts.settings"))
    return _settings_page(ProfileForm(formdata=None, obj=user), password_form, 400)
