"""Who is calling the API: bearer tokens on every /api/ request, or the browser session.

A request with a bad token is refused outright (401) instead of falling back to
anonymous, so a script learns at once that its token is wrong.
"""

from __future__ import annotations

from flask import abort, current_app, g, jsonify, request

from normhub.accounts.models import User
from normhub.api import services
from normhub.auth import current_user_or_none
from normhub.db import get_session

API_ROOT = "/api/"
AUTH_CHALLENGE = 'Bearer realm="NormHub API"'
LOGIN_NEEDED = (
    "Authentication required: send 'Authorization: Bearer <token>' "
    "(create a token under Settings → API tokens) or log in."
)
BAD_HEADER = "The Authorization header must be 'Bearer <token>'."
BAD_TOKEN = (
    "This API token is not valid. It may have expired or been revoked "  # noqa: S105
    "(changing your password revokes them all)."
)


# -- Authentication ---------------------------------------------------------


def unauthorized(message: str, invalid_token: bool = False):
    response = jsonify({"error": {"status": 401, "message": message}})
    response.status_code = 401
    challenge = AUTH_CHALLENGE + (', error="invalid_token"' if invalid_token else "")
    response.headers["WWW-Authenticate"] = challenge
    return response


def checks_token_itself(view):
    """Mark a view that looks its bearer token up in its own first query.

    For the exposure check, the hottest path: the token, the caller and
    everything the check needs about its parties come back in one round trip
    (``services.resolve_check``), so authentication must not cost another.
    Such a view reads ``g.api_token_hash`` and answers 401 itself.
    """
    view.checks_token_itself = True
    return view


def authenticate_bearer():
    """Check a bearer token on any /api/ request; a bad one is refused outright.

    Refusing (rather than falling back to anonymous) tells a script at once
    that its token is wrong instead of giving it a confusing 404 later.
    """
    g.pop("api_token", None)
    g.pop("api_token_hash", None)
    if not request.path.startswith(API_ROOT):
        return None
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return unauthorized(BAD_HEADER, invalid_token=True)
    token_hash = services.token_hash_of(secret.strip())
    if token_hash is None:
        return unauthorized(BAD_TOKEN, invalid_token=True)
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "checks_token_itself", False):
        g.api_token_hash = token_hash
        return None
    token = services.token_by_hash(get_session(), token_hash)
    if token is None:
        return unauthorized(BAD_TOKEN, invalid_token=True)
    g.api_token = token
    return None


def user_from_bearer(_request) -> User | None:
    """Flask-Login request loader, so ``current_user`` works for token requests too."""
    token = g.get("api_token")
    return token.user if token is not None else None


def api_caller() -> User | None:
    """Who is calling: the token's owner when a token was sent, else the logged-in user."""
    token = g.get("api_token")
    return token.user if token is not None else current_user_or_none()


def require_api_caller() -> User:
    caller = api_caller()
    if caller is None:
        abort(unauthorized(LOGIN_NEEDED))
    return caller
