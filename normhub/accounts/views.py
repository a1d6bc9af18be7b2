"""Register, confirm your address, log in and out, edit your profile, address and password,
and see where you are logged in."""

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

from normhub.accounts import arrival, logins, services, verification
from normhub.accounts.forms import (
    EmailChangeForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
)
from normhub.accounts.login_cookie import current_login
from normhub.accounts.models import User
from normhub.auth import current_user_or_none
from normhub.db import begin_write, get_session
from normhub.web import saving

bp = Blueprint("accounts", __name__)

BAD_CREDENTIALS = "That email and password do not match an account."
PASSWORD_CHANGED = (
    "Your password is changed. You are still logged in here; every other browser "  # noqa: S105
    "logged in as you is logged out, and your API tokens are revoked."
)


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


HOME = "home.index"


def _join_on_login(user: User, join: str | None) -> str | None:
    """Join the community a "Log in to join" named (``accounts.arrival``); where to land."""
    if join is None:
        return None
    session = get_session()
    with saving(session) as attempt:
        landed = arrival.join_on_arrival(session, user, join)
    if not attempt.ok or landed is None:
        return None
    flash(landed.message, "success" if landed.joined else "info")
    return landed.path


@bp.route("/login", methods=["GET", "POST"])
def login():
    # login_user() starts a server-side login with a fresh cookie (accounts.login_cookie).
    form = LoginForm()
    next_url = safe_next(request.values.get("next"))
    join = arrival.join_argument(request.values.get("join"))
    if current_user_or_none() is not None and request.method == "GET":
        return redirect(next_url or url_for(HOME))
    status = 200
    if form.validate_on_submit():
        session = get_session()
        user = services.authenticate(session, form.email.data, form.password.data)
        if user is not None:
            session.commit()  # a rehashed password is saved
            login_user(user)
            return redirect(_join_on_login(user, join) or next_url or url_for(HOME))
        form.form_errors.append(BAD_CREDENTIALS)
        status = 400
    elif request.method == "POST":
        status = 400
    page = render_template("accounts/login.html", form=form, next_url=next_url, join=join)
    return page, status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for(HOME))


@bp.route("/register", methods=["GET", "POST"])
def register():
    """A new address gets an account and a confirmation link, a taken one an explanation by
    email; the page says the same either way (see ``verification.sign_up``)."""
    form = RegisterForm()
    next_url = safe_next(request.values.get("next"))
    join = arrival.join_argument(request.values.get("join"))
    status = 200
    if form.validate_on_submit():
        session = get_session()
        with saving(session, form) as attempt:
            address = verification.sign_up(
                session,
                form.email.data,
                form.display_name.data,
                form.password.data,
                join=join,
                next_url=next_url,
            )
        if attempt.ok:
            return render_template(
                "accounts/register_sent.html", address=address, next_url=next_url, join=join
            )
        status = 400
    elif request.method == "POST":
        status = 400
    page = render_template("accounts/register.html", form=form, next_url=next_url, join=join)
    return page, status


def _settings_page(
    profile_form: ProfileForm,
    password_form: PasswordForm,
    status: int = 200,
    email_form: EmailChangeForm | None = None,
):
    links = [
        (endpoint, label)
        for endpoint, label in (
            ("accounts.sessions", "Where you are logged in"),
            ("api.tokens", "API tokens"),
            ("notifications.settings", "Notifications"),
            ("digest.preferences", "Email digest"),
            ("exposure.checks_about_me", "Checks about me"),
            ("account_data.overview", "Your data, or deleting your account"),
        )
        if endpoint in current_app.view_functions
    ]
    return (
        render_template(
            "accounts/settings.html",
            profile_form=profile_form,
            password_form=password_form,
            email_form=email_form or EmailChangeForm(formdata=None),
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
                session, user, password_form.current_password.data, password_form.new_password.data
            )
        if attempt.ok:
            # Every login ended, this one too: this browser stays logged in with a new
            # one, so even a copy of its own cookie stops working. (The user itself,
            # from the identity map: login_user must not get the current_user proxy.)
            login_user(session.get(User, user.id))
            flash(PASSWORD_CHANGED, "success")
            return redirect(url_for("accounts.settings"))
    return _settings_page(ProfileForm(formdata=None, obj=user), password_form, 400)


# -- Where you are logged in ------------------------------------------------------------


@bp.get("/settings/sessions")
@login_required
def sessions():
    user = current_user_or_none()
    current = current_login()
    entries = [
        {
            "login": login,
            "browser": logins.describe_browser(login.user_agent),
            "is_current": current is not None and login.id == current.id,
        }
        for login in logins.for_user(get_session(), user)
    ]
    tokens_url = url_for("api.tokens") if "api.tokens" in current_app.view_functions else None
    return render_template("accounts/sessions.html", entries=entries, tokens_url=tokens_url)


@bp.post("/settings/sessions/<id:login_id>/end")
@login_required
def end_session(login_id: int):
    current = current_login()
    if current is not None and current.id == login_id:
        logout_user()  # ending the login in hand is logging out
        flash("You are logged out.", "info")
        return redirect(url_for("accounts.login"))
    session = get_session()
    logins.end_one(session, current_user_or_none(), login_id)
    session.commit()
    flash("That login has ended: that browser must log in again.", "success")
    return redirect(url_for("accounts.sessions"))


@bp.post("/settings/sessions/end-all")
@login_required
def end_all_sessions():
    session = get_session()
    logins.end_all(session, current_user_or_none())
    session.commit()
    logout_user()
    flash("You are logged out everywhere, here too.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/settings/email", methods=["POST"])
@login_required
def change_email():
    user = current_user_or_none()
    email_form = EmailChangeForm()
    if email_form.validate_on_submit():
        session = get_session()
        with saving(session, email_form) as attempt:
            address = verification.request_email_change(
                session, user, email_form.new_email.data, email_form.password.data
            )
        if attempt.ok:
            flash(
                f"We have sent a link to {address}. Your address changes when you follow it; "
                f"until then we keep writing to {user.email}.",
                "success",
            )
            return redirect(url_for("accounts.settings"))
    profile_form = ProfileForm(formdata=None, obj=user)
    return _settings_page(profile_form, PasswordForm(formdata=None), 400, email_form)


@bp.route("/settings/email/cancel", methods=["POST"])
@login_required
def cancel_email_change():
    session = get_session()
    with saving(session) as attempt:
        verification.cancel_email_change(session, current_user_or_none())
    if attempt.ok:
        flash("The change of address is cancelled: your address stays as it is.", "success")
    return redirect(url_for("accounts.settings"))


@bp.route("/settings/email/resend", methods=["POST"])
@login_required
def resend_confirmation():
    """The banner's and the settings page's button; back to the page it was pressed on."""
    session = get_session()
    with saving(session) as attempt:
        address = verification.resend_link(session, current_user_or_none())
    if attempt.ok:
        flash(f"We have sent a new link to {address}. It works for 48 hours.", "success")
    return redirect(safe_next(request.form.get("next")) or url_for("accounts.settings"))


@bp.route("/confirm-email/<token>")
def confirm_email(token: str):
    """Following the link in a confirmation email: the address is confirmed, or the page
    says plainly why not and offers a new link."""
    session = get_session()
    begin_write(session)
    try:
        confirmation = verification.confirm_address(session, token)
    except verification.LinkRefused as refusal:
        session.rollback()
        return render_template("accounts/confirm_email.html", refusal=refusal, token=token), 400
    landed = None
    if confirmation.join and not (confirmation.already or confirmation.changed):
        # A new account's first confirmation joins the community it registered from.
        landed = arrival.join_on_arrival(session, confirmation.user, confirmation.join)
    session.commit()
    return render_template("accounts/confirm_email.html", confirmation=confirmation, landed=landed)


@bp.route("/confirm-email/<token>/resend", methods=["POST"])
def resend_for_expired_link(token: str):
    """The button under an expired link: a new link to the same address, logged in or not."""
    session = get_session()
    with saving(session) as attempt:
        address = verification.resend_for_expired_link(session, token)
    if attempt.ok:
        flash(f"We have sent a new link to {address}. It works for 48 hours.", "success")
    return redirect(url_for(HOME))
