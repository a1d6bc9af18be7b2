"""Friendly error pages, and JSON errors for the API."""

from __future__ import annotations

import hmac
import re

from flask import Flask, current_app, jsonify, make_response, render_template, request, session
from flask_wtf.csrf import CSRFError
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException, InternalServerError

from normhub.errors import DomainError

MESSAGES = {
    400: "The request could not be understood.",
    403: "You don't have permission to see or change this.",
    404: (
        "There is nothing here. It may have been moved, or it may be in a community "
        "you are not a member of."
    ),
    405: "That action is not allowed here.",
    413: "That upload is too large.",
    429: "Too many requests. Please slow down.",
    500: "Something went wrong on our side. Nothing you sent was half-saved; please try again.",
}


CSRF_REFUSED = "Your form expired or was sent from elsewhere. Reload the page and try again."
# Flask-WTF's words for a token that is genuine but older than WTF_CSRF_TIME_LIMIT.
_CSRF_EXPIRED = "The CSRF token has expired."
# Flask-WTF signs the session's CSRF secret with this salt (flask_wtf.csrf.generate_csrf).
_CSRF_SALT = "wtf-csrf-token"
# Never written back into a page: the person types these again.
_NOT_KEPT = re.compile(r"csrf_token|password|confirm", re.IGNORECASE)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str | None = None):
    message = message or MESSAGES.get(status, "Error")
    if wants_json():
        return jsonify({"error": {"status": status, "message": message}}), status
    return render_template("error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        if exc.description == _CSRF_EXPIRED and not wants_json() and _token_is_this_browsers():
            return form_expired()
        return error_response(400, CSRF_REFUSED)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        # A description passed to abort() explains the specific case; the
        # generic werkzeug text does not, so use ours then.
        default = type(exc).description
        message = exc.description if exc.description != default else None
        body, status = error_response(exc.code or 500, message)
        response = make_response(body, status)
        # What the exception says about itself (a 405's Allow, RFC 9110; a 401's
        # WWW-Authenticate) goes out with our page; the page sets its own type.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        # Services raise NotFound / Forbidden / ValidationFailed; a view that
        # does not catch one shows its message with the matching status.
        return error_response(exc.status, exc.message)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(InternalServerError.code)


def _token_is_this_browsers() -> bool:
    """Whether the expired token was made for this browser's session.

    Flask-WTF reports an old token as expired before comparing it with the
    session, so an attacker's own old token reads "expired" too. Only a token
    of this session proves the form came from our page in this browser: then,
    and only then, may the page offer to send what was typed again.
    """
    token = request.form.get("csrf_token", "")
    secret = session.get("csrf_token")
    if not token or not isinstance(secret, str):
        return False
    key = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    try:
        value = URLSafeTimedSerializer(key, salt=_CSRF_SALT).loads(token)
    except BadData:
        return False
    return isinstance(value, str) and hmac.compare_digest(value, secret)


def _typed_label(name: str) -> str:
    """A field's name as a label: "assumptions-0-statement" -> "Assumptions 1 statement"."""
    name = re.sub(r"-(\d+)-", lambda match: f" {int(match.group(1)) + 1} ", name)
    return name.replace("_", " ").replace("-", " ").capitalize()


def _was_typed(value: str) -> bool:
    # Numbers alone are a form's own bookkeeping (positions, ids, versions), not writing;
    # they still go back with "Send again".
    return bool(value.strip()) and not value.strip().isdigit()


def form_expired():
    """A form sent after its token expired: nothing saved, what was typed offered back.

    The page repeats the form's fields (passwords excepted) with a fresh token,
    so "Send again" hands the view exactly what was sent, and the view's own
    form shows anything it still refuses.
    """
    fields = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if not _NOT_KEPT.search(name)
    ]
    typed = [(_typed_label(name), value) for name, value in fields if _was_typed(value)]
    query = request.query_string.decode("latin-1")
    action = request.path + (f"?{query}" if query else "")
    hours = (current_app.config.get("WTF_CSRF_TIME_LIMIT") or 0) // 3600
    page = render_template(
        "form_expired.html", fields=fields, typed=typed, action=action, hours=hours
    )
    return page, 400, {"Cache-Control": "no-store"}
