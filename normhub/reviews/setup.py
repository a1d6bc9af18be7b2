"""What reviews add to the app: the review pages, the norm page's review panel, the
review dates that follow a norm's status, the periodic job that opens due rounds,
and the member's part of their data and of deleting it."""

from __future__ import annotations

from flask import Flask

from normhub import events
from normhub.accounts.data_export import register_section
from normhub.jobs.queue import register
from normhub.norms.page import add_panel
from normhub.reviews import account_data, schedule, services
from normhub.reviews.views import bp, norm_page_panel


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_panel(app, norm_page_panel)
    register(app, schedule.open_due)
    events.Norm.StatusChanged.in_transaction.connect(schedule.status_changed)
    events.Norm.Revised.in_transaction.connect(services.norm_revised)
    register_section("review_answers", account_data.reviews_section)
    events.Account.Deleting.in_transaction.connect(account_data.remove_evidence)
