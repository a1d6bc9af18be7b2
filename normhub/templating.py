"""Jinja filters and globals shared by every template."""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import Flask, request, url_for

from normhub.auth import current_user_or_none
from normhub.db import utcnow
from normhub.text import with_direction_closed
from normhub.urls import absolute_url, base_url
from normhub.web import draft_key


def format_datetime(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def format_date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def iso_utc(value: datetime | None) -> str:
    """A stored (naive UTC) time for a ``datetime`` attribute: ``2026-03-01T09:30:00Z``."""
    return value.replace(microsecond=0).isoformat() + "Z" if value else ""


_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600))


def time_ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago ``value`` was (``3 hours ago``), or how soon it comes (``in 5 days``)."""
    if value is None:
        return ""
    seconds = ((now or utcnow()) - value).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        return "in a moment" if future else "just now"
    count, unit = int(seconds // 60), "minute"
    for name, length in _UNITS:
        if seconds >= length:
            count, unit = int(seconds // length), name
            break
    words = f"{count} {unit}{'s' if count != 1 else ''}"
    return f"in {words}" if future else f"{words} ago"


# Circles behind a member's initials; each has a contrast of at least 4.5:1 with white.
AVATAR_COLOURS = 8


def initials(user) -> str:
    """The first letters of a member's first and last names ("Ada Lovelace": "AL")."""
    if getattr(user, "is_deleted", False):
        return "?"
    words = (user.display_name or "").split()
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


def avatar_colour(user) -> int:
    """Which of the avatar colours is this member's: the same on every page, from their
    handle (a deleted account has none, and gets the grey of a former member)."""
    if getattr(user, "is_deleted", False) or not getattr(user, "handle", None):
        return AVATAR_COLOURS  # the grey circle
    return hashlib.sha256(user.handle.encode()).digest()[0] % AVATAR_COLOURS


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
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["iso_utc"] = iso_utc
    app.jinja_env.filters["ago"] = time_ago
    app.jinja_env.filters["initials"] = initials
    app.jinja_env.filters["avatar_colour"] = avatar_colour
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["viewer"] = current_user_or_none
    app.jinja_env.globals["absolute_url"] = absolute_url
    app.jinja_env.globals["base_url"] = base_url
    app.jinja_env.globals["draft_key"] = draft_key
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
