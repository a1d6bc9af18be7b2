"""Rate limits: one table of who may do what how often, enforced by Flask-Limiter.

Each app gets its own limiter, so the counts of one app (or test) never leak
into another's. Counts live in memory by default, which is per process: with
several gunicorn workers or servers set ``NORMHUB_REDIS_URL`` so they share
one count. The limits are attached to the views once every feature has
registered its blueprint, by endpoint name, as :data:`LIMITS` says; a view
module never imports the limiter. A new limit is one line here plus its test.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user

from normhub.error_pages import error_response

# --- whose count a request adds to ----------------------------------------------------


def by_address() -> str:
    """The client's address (right behind a proxy once NORMHUB_PROXY_HOPS is set)."""
    return f"address:{get_remote_address()}"


def by_account() -> str:
    """The account a login or reset names, whoever sends it: guessing one member's
    password from many addresses is still counted as one."""
    email = (request.form.get("email") or "").strip().lower()
    return f"account:{_digest(email)}" if email else by_address()


def by_user() -> str:
    """The logged-in member (their address when logged out)."""
    if current_user.is_authenticated:
        return f"user:{current_user.get_id()}"
    return by_address()


def by_token() -> str:
    """The API token a request carries, else the browser session's member."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return f"token:{_digest(secret.strip())}"
    return by_user()


def _digest(text: str) -> str:
    # Keys may sit in a shared Redis: never store an address or a token in clear.
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def failed_form(response) -> bool:
    """A login that did not log in (its page comes back instead of a redirect)."""
    return response.status_code >= 400


@dataclass(frozen=True)
class Rule:
    limit: str  # Flask-Limiter's notation: "10 per minute; 100 per day"
    key: Callable[[], str]
    methods: tuple[str, ...] = ("POST",)
    only_failures: bool = False  # count only answers that failed_form() calls failures


# Endpoint (or "api.*": every /api/ route) -> its rules. Numbers are per key.
LIMITS: dict[str, tuple[Rule, ...]] = {
    "accounts.login": (
        Rule("10 per minute; 100 per day", by_account, only_failures=True),
        Rule("30 per minute", by_address),
    ),
    "accounts.register": (
        Rule("20 per hour", by_address),
        Rule("3 per hour", by_account),  # each may email the address's owner
    ),
    "accounts.change_email": (Rule("10 per hour", by_user),),
    "accounts.resend_confirmation": (Rule("10 per hour", by_user),),
    "accounts.resend_for_expired_link": (Rule("10 per hour", by_address),),
    "password_reset.forgot": (
        Rule("3 per hour", by_account),  # however many addresses ask for one account
        Rule("10 per hour", by_address),
    ),
    "password_reset.reset_password": (Rule("20 per hour", by_address),),
    # Each download reads everything about the member; deleting asks for the password.
    "account_data.download": (Rule("10 per hour", by_user, ("GET",)),),
    "account_data.delete": (Rule("10 per hour", by_user),),
    "exposure.check_form": (Rule("30 per minute; 500 per day", by_user),),
    "discussion.post": (Rule("10 per minute; 300 per day", by_user),),
    "norms.reread_period": (Rule("30 per minute; 300 per day", by_user),),
    # The writing script asks these while someone types: generous, but bounded.
    "writing.preview": (Rule("60 per minute; 2000 per day", by_user),),
    "writing.suggest_members": (Rule("120 per minute; 3000 per day", by_user, ("GET",)),),
    "reviews.answer": (Rule("30 per minute; 500 per day", by_user),),
    "reviews.decide": (Rule("30 per minute", by_user),),
    "api.answer_review": (Rule("30 per minute; 500 per day", by_token),),
    "api.*": (Rule("300 per minute", by_token, ("GET",)),),
}

ALL_API = "api.*"


def init_app(app: Flask) -> None:
    """Attach :data:`LIMITS` to the registered views; call after every blueprint."""
    app.register_error_handler(RateLimitExceeded, _too_many)
    limiter = Limiter(key_func=by_address, app=app)
    app.extensions["normhub.limiter"] = limiter
    if not limiter.enabled:
        # Switched off (NORMHUB_RATE_LIMITS=0): leave the views unwrapped, so a limit that
        # is never counted costs nothing on each request either.
        return
    for endpoint in _limited_endpoints(app):
        rules = LIMITS.get(endpoint) or LIMITS[ALL_API]
        view = app.view_functions[endpoint]
        for rule in rules:
            view = limiter.limit(
                rule.limit,
                key_func=rule.key,
                methods=list(rule.methods),
                deduct_when=failed_form if rule.only_failures else None,
            )(view)
        app.view_functions[endpoint] = view


def _limited_endpoints(app: Flask) -> list[str]:
    named = [endpoint for endpoint in LIMITS if endpoint != ALL_API]
    missing = [endpoint for endpoint in named if endpoint not in app.view_functions]
    if missing:
        raise RuntimeError(f"Rate limits name views that do not exist: {missing}")
    api = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and rule.endpoint not in LIMITS
    }
    return named + sorted(api)


def _too_many(exc: RateLimitExceeded):
    seconds = seconds_until_reset()
    wait = f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    body, status = error_response(429, f"Too many attempts. Please wait {wait} and try again.")
    return body, status, {"Retry-After": str(seconds)}


def seconds_until_reset() -> int:
    """Seconds until the limit this request broke lets one through again."""
    breached = current_app.extensions["normhub.limiter"].current_limit
    if breached is None:
        return 60
    return max(1, breached.reset_at - int(time.time()))
