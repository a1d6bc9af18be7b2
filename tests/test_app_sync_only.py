"""NormHub runs every view and hook as a plain function (NormHubFlask.ensure_sync),
so the app factory refuses an async one rather than let it return an unawaited coroutine."""

from __future__ import annotations

import functools

import pytest
from flask_login import login_required

from normhub import refuse_async_callables


def test_the_app_has_no_async_callables(app):
    refuse_async_callables(app)  # what create_app checked, checked again after the fixtures


def test_an_async_view_is_refused(app):
    async def dashboard():
        return "never awaited"

    app.add_url_rule("/async-dashboard", view_func=login_required(dashboard))
    with pytest.raises(TypeError, match="dashboard"):
        refuse_async_callables(app)


def test_an_async_hook_is_refused(app):
    async def stamp(response):
        return response

    app.after_request(functools.partial(stamp))
    with pytest.raises(TypeError, match="no async"):
        refuse_async_callables(app)
