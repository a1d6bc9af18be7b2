"""A recorded check, told to the person it was about, in the second person. No database.

The checker read an answer about "Charlie"; Charlie reads what that answer
meant for them, worded here from the record's fields (the level that
counted, whether their reading was stale, the recommended next step), not
by rewriting the stored answer. The stored answer is shown beside it as
"what they saw".
"""

from __future__ import annotations

from datetime import datetime

from normhub.db import utcnow

# What the answer said about them, by the level that counted for the current text.
_LEVEL_TOLD = {
    "none": "you haven't opened it yet",
    "delivered": "you were sent it but haven't opened it yet",
    "opened": "you opened it but haven't read it to the end",
    "read": "you have read it",
    "understood": "you have read and understood it",
    "endorsed": "you have read and endorsed it",
}
_STALE_TOLD = "it has changed materially since you last read it"
_NOT_MEMBER_TOLD = "you are not a member of its community, so it does not bind you"

# The next step the checker was given, by recommendation code.
_ADVICE = {
    "not_member": "not to hold you to it",
    "not_in_force": "to discuss it with you, not to enforce it: it is not in force",
    "share_norm": "to share it with you instead of calling you out",
    "share_changes": "to share what changed with you before holding you to the current text",
    "remind": "that a reminder to read it is fair, and a call-out is not",
    "ask_reread": "to ask you to read it again: you read it longer ago than the re-read period",
    "ask_understanding": "to ask you whether you understood it before holding you to it",
    "discuss_assumptions": "to answer your reasons for rejecting it before enforcing it",
    "unmet_prerequisites": "to point you to the norms it builds on first",
    "fair_to_hold": "that it is fair to hold you to it",
}

OUTSIDER_LINE = (
    "A member of a community you are not in checked whether you had read one of its norms"
)


def short_date(value: datetime, now: datetime | None = None) -> str:
    """``3 Dec``, with the year when it is not this year's."""
    now = now or utcnow()
    text = f"{value.day} {value:%b}"
    return text if value.year == now.year else f"{text} {value.year}"


def told_you(level: str, stale: bool, recommendation: str | None) -> str:
    """What the checker was told about you, as a clause: "you haven't opened it yet"."""
    if recommendation == "not_member":
        return _NOT_MEMBER_TOLD
    if stale:
        return _STALE_TOLD
    return _LEVEL_TOLD.get(level, _LEVEL_TOLD["none"])


def advice_given(recommendation: str | None) -> str | None:
    """The next step the checker was advised, as a clause; None for checks before 0012."""
    return _ADVICE.get(recommendation) if recommendation else None


def sentence(clause: str) -> str:
    return clause[0].upper() + clause[1:] + "."
