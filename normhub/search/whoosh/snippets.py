"""Snippets: the stored text around the words matched, with each match in <mark>."""

from __future__ import annotations

import logging

from markupsafe import Markup, escape
from whoosh import highlight

from normhub.search.whoosh.schema import SCHEMA
from normhub.text import with_direction_closed

logger = logging.getLogger("normhub.search")

SNIPPET_CHARS = 220


def _shown(text: str) -> str:
    # Each piece closes the direction controls it opens (normhub.text): an override
    # cut off by the snippet must not turn the match and the text after it around.
    return str(escape(with_direction_closed(text)))


class MarkFormatter(highlight.Formatter):
    """Wraps matches in <mark>; every other character of the user text is escaped."""

    between = " … "

    def _text(self, text):
        return _shown(text)

    def format_token(self, text, token, replace=False):
        return f"<mark>{_shown(highlight.get_text(text, token, replace))}</mark>"


_FRAGMENTER = highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60)
_FORMATTER = MarkFormatter()


def _highlight(text: str, fieldname: str, terms: set[str]) -> str:
    return highlight.highlight(
        text, terms, SCHEMA[fieldname].analyzer, _FRAGMENTER, _FORMATTER, top=2
    )


def _mentions(text: str, stems: set[str]) -> bool:
    """Cheap test whether highlighting ``text`` can find anything (it re-analyzes it all)."""
    lowered = text.lower()
    return any(stem[: max(3, len(stem) - 1)] in lowered for stem in stems)


def snippet(
    stored: dict, fields: tuple[str, ...], fallback: str, stems: dict[str, set[str]]
) -> Markup:
    for fieldname in fields:
        text = stored.get(fieldname) or ""
        terms = stems.get(fieldname, set())
        if not text or not _mentions(text, terms):
            continue
        try:
            fragment = _highlight(text, fieldname, terms)
        except Exception:  # a highlighting bug must not lose the whole result page
            logger.exception("Highlighting %s failed", fieldname)
            fragment = ""
        if fragment:
            # Safe: MarkFormatter escaped all text and added only <mark> tags.
            return Markup(fragment)  # noqa: S704
    fallback = fallback or ""
    if len(fallback) > SNIPPET_CHARS:
        fallback = fallback[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return escape(with_direction_closed(fallback))
