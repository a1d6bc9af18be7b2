"""What the exposure feature adds to the app.

Its pages (``views`` and the check's pages, which join the same blueprint;
the remind flow), the norm page's exposure panel and remind links, and the
ledger's subscriptions to other features' events (responses, page views,
status changes).
"""

from __future__ import annotations

from flask import Flask

from normhub import events
from normhub.accounts.data_export import register_section
from normhub.exposure import (
    account_data,
    check_pages,  # noqa: F401  (its routes join views.bp)
    remind_views,
    subscribers,
    tallies,
)
from normhub.exposure.standing import reading_states
from normhub.exposure.views import bp, norm_page_context
from normhub.forum.browse import register_reading_states
from normhub.jobs.queue import register
from normhub.norms.page import add_panel


def _panel(session, norm, viewer, version, _forms: dict) -> dict:
    return norm_page_context(session, norm, viewer, version)


def _remind_panel(session, norm, viewer, _version, _forms: dict) -> dict:
    return remind_views.norm_page_context(session, norm, viewer)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(remind_views.bp)
    add_panel(app, _panel)
    add_panel(app, _remind_panel, on_comment_pages=True)
    subscribers.connect()
    register(app, tallies.fold_tallies_job)
    register(app, tallies.recount_tallies_job)
    register_reading_states(reading_states)  # the marks on a community's norm list
    register_section("exposure", account_data.exposure_section)
    events.Account.Deleting.in_transaction.connect(account_data.fold_into_anonymous_counts)
