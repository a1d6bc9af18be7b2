"""What the responses feature adds to the app: its pages and the norm page's response panel."""

from __future__ import annotations

from flask import Flask

from normhub import events
from normhub.accounts.data_export import register_section
from normhub.norms.page import add_panel
from normhub.responses.account_data import remove_reasons, responses_section
from normhub.responses.views import bp, norm_page_panel


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_panel(app, norm_page_panel)
    register_section("responses", responses_section)
    events.Account.Deleting.in_transaction.connect(remove_reasons)
