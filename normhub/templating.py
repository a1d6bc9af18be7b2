"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, request, url_for

from normhub.auth import current_user_or_none
from normhub.markdown import render_markdown
from normhub.text import with_direction_closed
from normhub.urls import absolute_url, base_url


def format_datetime(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def format_date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def url_with(**changes) -> str:
    """The current page's URL with some query arguments changed (filters, pages)."""
    args = request.args.to_dict()
    args.update({k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        args.pop(key, None)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def close_direction(value):
    """What a template prints: text closes the direction controls it opens (normhub.text),
    so a note or a statement cannot turn around the page's words after it. Markup (the
    Markdown, diffs and snippets the app built) closes its own pieces."""
    return with_direction_closed(value) if type(value) is str else value


def init_app(app: Flask) -> None:
    app.jinja_env.finalize = close_direction
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["viewer"] = current_user_or_none
    app.jinja_env.globals["absolute_url"] = absolute_url
    app.jinja_env.globals["base_url"] = base_url
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
