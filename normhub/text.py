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
* Wherever text is shown, the embeddings, overrides and isolates it opens are
  closed at its end (:func:`with_direction_closed`; every template applies it):
  one left open would run on to the end of the paragraph, turning around the
  page's own words after it ("Their note: “…” — their reason:").
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


# Embeddings and overrides (LRE, RLE, LRO, RLO) end at PDF; isolates (LRI, RLI, FSI) at PDI.
_EMBEDDINGS, _ISOLATES = "\u202a\u202b\u202d\u202e", "\u2066\u2067\u2068"
_PDF, _PDI = "\u202c", "\u2069"
_OPENS_DIRECTION = re.compile("[\u202a\u202b\u202d\u202e\u2066\u2067\u2068]")


def with_direction_closed(text: str) -> str:
    """``text`` with every embedding, override and isolate it leaves open closed at its end.

    Matched as the Unicode bidirectional algorithm matches them: a PDF closes the
    innermost embedding unless an isolate opened since, a PDI the innermost isolate
    with everything opened inside it. A closer with nothing to close is ignored
    there, so one too many (after a line break that ended the paragraph) is harmless.
    """
    if not _OPENS_DIRECTION.search(text):
        return text
    closers: list[str] = []
    for ch in text:
        if ch in _EMBEDDINGS:
            closers.append(_PDF)
        elif ch in _ISOLATES:
            closers.append(_PDI)
        elif ch == _PDF and closers and closers[-1] == _PDF:
            closers.pop()
        elif ch == _PDI and _PDI in closers:
            while closers.pop() != _PDI:
                pass
    return text + "".join(reversed(closers))


def has_nul(text: str | None) -> bool:
    """Whether ``text`` holds a NUL, which names nothing and which PostgreSQL refuses."""
    return text is not None and "\x00" in text
