"""Ids and numbers from URLs and forms: only what a 32-bit integer column can hold."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

# Ids and numbers live in 32-bit integer columns; a bigger number in a URL or a
# form names nothing, and must be a 404 rather than a database overflow.
ID_MAX = 2**31 - 1


def parse_id(text: str | None) -> int | None:
    """``text`` as a database id or number, or None when it cannot be one."""
    text = (text or "").strip()
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if value <= ID_MAX else None


class IdConverter(IntegerConverter):
    """``<id:name>`` in routes: like ``<int:name>``, but only values a column can hold."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)
