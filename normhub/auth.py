"""Login sessions (Flask-Login), CSRF (Flask-WTF) and the access helpers views use."""

from __future__ import annotations

from flask import Flask, abort, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"

csrf = CSRFProtect()


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus the work for requests without one.

    Flask builds the cookie's signing serializer (key derivation included) on
    every request before it looks for the cookie, and works out every cookie
    attribute before it finds there is nothing to write. API scripts and
    first-time visitors send no cookie and get none back, so both steps are
    skipped for them; a cookie, when there is one, is handled exactly as before.
    """

    def open_session(self, app, request):
        if app.secret_key and not request.headers.get("Cookie"):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessionInterface()
    login_manager.init_app(app)
    # Flask-WTF's own hook looks up exemptions before the method on every
    # request; ours asks the method first, so reads skip the lookups. Every
    # POST, PUT, PATCH and DELETE is still checked, exemptions still apply.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)

    @app.before_request
    def _check_csrf():
        config = app.config
        if (
            config["WTF_CSRF_ENABLED"]
            and request.method in config["WTF_CSRF_METHODS"]
            and not _bearer_only(request)
        ):
            csrf.protect(apply_exemptions=True)

    @app.teardown_request
    def _forget_user(_exc):
        # Flask-Login caches the user on g; don't let it outlive the request
        # when the app context is shared between requests.
        g.pop("_login_user", None)


def _bearer_only(request) -> bool:
    """An API call carrying a bearer token and no cookie: no browser sends one of those on
    another site's behalf (a cross-site request cannot add an Authorization header without
    a CORS preflight, which the app never grants), so there is no forgery to stop."""
    return (
        request.path.startswith("/api/")
        and "Cookie" not in request.headers
        and request.headers.get("Authorization", "").lower().startswith("bearer ")
    )


def current_user_or_none():
    """The logged-in User, or None for anonymous visitors.

    The User itself, not Flask-Login's proxy of it: a page asks the viewer's id once a
    comment, and each read through the proxy looked the user up again."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def require(condition: bool) -> None:
    """403 unless ``condition`` holds: views use it after asking a policy function."""
    if not condition:
        abort(403)
