"""What the discussion feature adds to the app: its pages and the norm page's comment panel."""

from __future__ import annotations

from flask import Flask

from normhub import events
from normhub.accounts.data_export import register_section
from normhub.discussion.account_data import comments_section, remove_comments
from normhub.discussion.views import bp, norm_page_context
from normhub.norms.page import add_panel


def _panel(session, norm, viewer, _version, forms: dict) -> dict:
    return norm_page_context(session, norm, viewer, form=forms.get("comment"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_panel(app, _panel)
    register_section("comments", comments_section)
    events.Account.Deleting.in_transaction.connect(remove_comments)
