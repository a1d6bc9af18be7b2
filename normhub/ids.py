"""What URLs and forms may name: ids a 32-bit integer column can hold, path parts without
control characters."""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter, UnicodeConverter

# Ids and numbers live in 32-bit integer columns; a bigger number in a URL or a
# form names nothing, and must be a 404 rather than a database overflow.
ID_MAX = 2**31 - 1


# A community's address (its slug): lowercase letters, digits and inner hyphens, 1 to 60.
SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?")


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


class PathPartConverter(UnicodeConverter):
    """``<name>`` in routes (the default converter): one path part, no control characters.

    Every slug, norm reference, member reference and token in a URL is looked
    up by that string, and PostgreSQL refuses a NUL in a query parameter (a
    500). No stored slug, reference, email address or token holds a control
    character, so such a part matches no route: a 404 (JSON under /api/).
    """

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f]", 1)
