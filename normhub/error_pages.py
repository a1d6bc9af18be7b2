"""Friendly error pages, and JSON errors for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
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


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str | None = None):
    message = message or MESSAGES.get(status, "Error")
    if wants_json():
        return jsonify({"error": {"status": status, "message": message}}), status
    return render_template("error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return error_response(
            400, "Your form expired or was sent from elsewhere. Reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        # A description passed to abort() explains the specific case; the
        # generic werkzeug text does not, so use ours then.
        default = type(exc).description
        message = exc.description if exc.description != default else None
        response = error_response(exc.code or 500, message)
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
