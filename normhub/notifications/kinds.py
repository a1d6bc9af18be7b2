"""The kinds of notice, what each is called, and how each reaches a member by default.

Every notice shows in the app (the bell and the notifications page). Its
*delivery* says what email it adds: ``email`` at once (through the mail
queue, after the change commits), ``digest`` with the member's next digest,
``off`` none. Members choose per kind; these are the defaults: what is about
them personally goes out at once, the rest waits for the digest.
"""

from __future__ import annotations

from dataclasses import dataclass

EMAIL, DIGEST, OFF = "email", "digest", "off"
DELIVERIES = {
    EMAIL: "Email me at once",
    DIGEST: "In my digest",
    OFF: "No email",
}

WATCHING, NORMAL, MUTED = "watching", "normal", "muted"
WATCH_LEVELS = {
    WATCHING: "Watching: also tell me when a norm opens for discussion",
    NORMAL: "Normal: tell me about what concerns me",
    MUTED: "Muted: only what is about me personally",
}


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # on the preferences page: "When …"
    default: str
    # Personal notices reach a member even in a community they muted.
    personal: bool = True
    # Sent only to members watching the community.
    watching_only: bool = False

    def reaches(self, watch_level: str) -> bool:
        """Whether a member at ``watch_level`` in the community gets this kind of notice:
        the rule ``services.notify`` applies in SQL, for callers that hold rows already."""
        if self.watching_only:
            return watch_level == WATCHING
        return self.personal or watch_level != MUTED


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("mention", "someone mentions you", EMAIL),
        Kind("reply", "someone replies to your comment", DIGEST),
        Kind("check", "someone checks what you have seen of a norm", EMAIL),
        Kind("reminder", "someone reminds you of a norm or shares one with you", EMAIL),
        Kind("nudge", "a steward asks you to read a norm", DIGEST),
        Kind("revised", "a norm you answered changes materially", DIGEST, personal=False),
        Kind("status", "a norm you wrote changes status", DIGEST),
        Kind("responses", "people respond to a norm you wrote", DIGEST, personal=False),
        Kind("opened", "a norm opens in a community you watch", DIGEST, False, True),
        Kind("review", "a norm you responded to is up for review", DIGEST),
        Kind("review_answers", "members answer the review of a norm you wrote", DIGEST, False),
        Kind("reviewed", "a review you answered, or of a norm you wrote, is decided", DIGEST),
    )
}
