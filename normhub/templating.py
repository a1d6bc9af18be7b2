"""Jinja filters and globals shared by every template."""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import Flask, request, url_for
from markupsafe import Markup, escape

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


# The markup of a byline (avatar, name, time), template globals built here rather than
# template macros: a thread's page shows fifty, and an imported macro's call cost twice
# what these do. Each text passes through ``close_direction`` as a template's
# ``{{ ... }}`` would, then is escaped (``_text``): the Markup below trusts only the
# literal markup around them, and the dates and numbers this module formats.
def avatar_markup(user, size: int = 28) -> Markup:
    """A circle with the member's initials, its colour from their handle: made here, asked
    of no outside service. Decorative: the name always stands beside it."""
    return Markup(  # noqa: S704 (see above)
        f'<svg class="avatar avatar-{avatar_colour(user)}" viewBox="0 0 32 32" '
        f'width="{escape(size)}" height="{escape(size)}" aria-hidden="true" focusable="false">'
        '<circle cx="16" cy="16" r="16"></circle><text x="16" y="16" dy=".35em" '
        f'text-anchor="middle">{_text(initials(user))}</text></svg>'
    )


def time_markup(value: datetime | None) -> Markup:
    """``3 hours ago``, with the exact time on hover and for machines."""
    return Markup(  # noqa: S704 (see above)
        f'<time datetime="{iso_utc(value)}" title="{format_datetime(value)}">'
        f"{time_ago(value)}</time>"
    )


def person_markup(user, class_: str = "") -> Markup:
    """A person's name, linking to their member page; a deleted account has no page."""
    name = _text(user.display_name)
    if user.is_deleted:
        return Markup(  # noqa: S704 (see above)
            f'<span class="former-member{_text(f" {class_}") if class_ else ""}">{name}</span>'
        )
    href = _text(url_for("forum.member", handle=user.handle))
    classes = f' class="{_text(class_)}"' if class_ else ""
    return Markup(f'<a href="{href}"{classes}>{name}</a>')  # noqa: S704 (see above)


def _text(value) -> Markup:
    """``value`` as a template's ``{{ value }}`` prints it: directions closed, escaped."""
    return escape(close_direction(value))


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
    app.jinja_env.globals["avatar_markup"] = avatar_markup
    app.jinja_env.globals["time_markup"] = time_markup
    app.jinja_env.globals["person_markup"] = person_markup
    app.jinja_env.globals["viewer"] = current_user_or_none
    app.jinja_env.globals["absolute_url"] = absolute_url
    app.jinja_env.globals["base_url"] = base_url
    app.jinja_env.globals["draft_key"] = draft_key
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
