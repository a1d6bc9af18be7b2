"""What text people may store: no control characters, and no text-direction tricks in names.

One set of rules for every form (``normhub.forms`` applies them to each text
field) and every service that stores text (as a second line, for callers
without a form: the CLI, the demo loader, scripts):

* No C0 or C1 control characters, nor DEL. A NUL is accepted by SQLite and
  refused by PostgreSQL, and none of them is anything a person typed. Text
  that may span lines (essays, comments, bios, reasons) keeps tab, newline
  and carriage return; one-line text (names, titles, tags, statements, email
  addresses) keeps none of them.
* Names, titles and tags lose the invisible bidirectional controls (embeddings,
  overrides, isolates, and the left-to-right and right-to-left marks): in a
  list of names they can make one name look like another or reverse the text
  around it. Longer text keeps them, where right-to-left writing may need them.
"""

from __future__ import annotations

import re

from normhub.errors import ValidationFailed

_ONE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f]")
_MULTI_LINE_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def control_character_problem(text: str | None, label: str, multiline: bool) -> str | None:
    """What is wrong with ``text`` for a field called ``label``, in plain words; None if fine."""
    if not text:
        return None
    if multiline:
        if _MULTI_LINE_FORBIDDEN.search(text):
            return (
                f"{label} contains an invisible control character (such as a null byte). "
                "Remove it, or retype the text, and try again."
            )
        return None
    if _ONE_LINE_FORBIDDEN.search(text):
        return (
            f"{label} must be one line of plain text: no line breaks, tabs or invisible "
            "control characters (such as a null byte)."
        )
    return None


def require_plain_text(
    text: str | None, label: str, *, field: str | None = None, multiline: bool = False
) -> None:
    """Refuse ``text`` (ValidationFailed, for ``field``) if it holds control characters."""
    problem = control_character_problem(text, label, multiline)
    if problem is not None:
        raise ValidationFailed(problem, field=field)


def without_bidi_controls(text: str) -> str:
    """``text`` without the invisible characters that change the direction of text."""
    return _BIDI_CONTROLS.sub("", text)


def has_nul(text: str | None) -> bool:
    """Whether ``text`` holds a NUL, which names nothing and which PostgreSQL refuses."""
    return text is not None and "\x00" in text
