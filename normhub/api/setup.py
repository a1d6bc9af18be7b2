"""What the API adds to the app: its endpoints, bearer-token authentication on every
/api/ request (the search feature's JSON answers included), no shared caching of
answers about people, and revoking a user's tokens when their password changes."""

from __future__ import annotations

from flask import Flask

from normhub import events
from normhub.accounts.data_export import register_section
from normhub.api import (
    bearer,
    notifications,  # noqa: F401  (its routes join views.bp)
    records,  # noqa: F401  (its routes join views.bp)
    reviews,  # noqa: F401  (its routes join views.bp)
)
from normhub.api.services import (
    delete_tokens_with_account,
    revoke_tokens_on_password_change,
    tokens_section,
)
from normhub.api.views import bp, private_api_responses
from normhub.auth import login_manager


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(bearer.authenticate_bearer)
    login_manager.request_loader(bearer.user_from_bearer)
    app.after_request(private_api_responses)
    # A new password closes what the old one opened: every token of the user.
    events.Account.PasswordChanged.in_transaction.connect(revoke_tokens_on_password_change)
    register_section("api_tokens", tokens_section)
    events.Account.Deleting.in_transaction.connect(delete_tokens_with_account)
