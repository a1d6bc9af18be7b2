"""What a digest holds, as plain values the digest email's templates read.

A norm appears once per digest, in the first section that applies (in the
order of ``SECTIONS``), with its other reasons noted on it. Replies to the
member's comments are listed apart: an excerpt does not present the norm.
So are the checks made about the member (until in-app notifications exist,
a check about you is a line in your next digest).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from normhub.digest.models import ALL_COMMUNITIES
from normhub.exposure.bulk import Delivery
from normhub.exposure.told import OUTSIDER_LINE
from normhub.norms.refs import CommunityRef, NormRef
from normhub.responses.services import VersionChange

# Sections in the order a reader sees them.
SECTIONS = ("nudged", "revised", "approaching", "opened", "in_force")
SECTION_TITLES = {
    "nudged": "A steward asked you to look at",
    "revised": "Changed since you responded",
    "approaching": "Close to the in-force gate, and you haven't read it yet",
    "opened": "New for discussion",
    "in_force": "Now in force",
}


@dataclass
class Entry:
    """One norm in one member's digest."""

    norm: NormRef
    community: CommunityRef
    reasons: list[str] = field(default_factory=list)
    responded_version: int | None = None
    changes: list[VersionChange] = field(default_factory=list)
    coverage_pct: int | None = None
    nudged_by: list[str] = field(default_factory=list)

    @property
    def section(self) -> str:
        return min(self.reasons, key=SECTIONS.index)


@dataclass
class Reply:
    id: int
    norm: NormRef
    community: CommunityRef
    author_name: str
    excerpt: str
    created_at: datetime
    url: str


@dataclass
class CheckNotice:
    """Someone checked what the member had read. ``shown`` False: the check was made in
    a members-only community they are not in, so only that it happened, and when."""

    id: int
    created_at: datetime
    when: str  # "3 Dec"
    shown: bool
    checker_name: str = ""
    norm_title: str = ""
    norm_url: str = ""
    community_name: str = ""
    as_of: datetime | None = None
    told: str = ""  # "You haven't opened it yet."
    advice: str | None = None  # "to share it with you instead of calling you out"
    community_id: int | None = None  # only when shown

    outsider_line = OUTSIDER_LINE


@dataclass
class Section:
    key: str
    title: str
    entries: list[Entry]


@dataclass
class CommunityFooter:
    community: CommunityRef
    unsubscribe_url: str


@dataclass
class Digest:
    user_id: int
    email: str
    display_name: str
    period_kind: str
    period_key: str
    window_start: datetime
    window_end: datetime
    entries: list[Entry]
    replies: list[Reply]
    nudge_ids: list[int]
    # True when something in it was not in any earlier digest: only then is it sent.
    has_news: bool
    community_ids: list[int]
    unsubscribe_url: str = ""
    footers: list[CommunityFooter] = field(default_factory=list)
    settings_url: str = ""
    # DigestSend.scope: 0 for all the member's communities, else the one community.
    scope: int = ALL_COMMUNITIES
    checks: list[CheckNotice] = field(default_factory=list)
    checks_url: str = ""  # the page of checks about the member

    @property
    def norm_ids(self) -> set[int]:
        return {e.norm.id for e in self.entries} | {r.norm.id for r in self.replies}

    @property
    def norm_count(self) -> int:
        return len(self.norm_ids)

    @property
    def is_empty(self) -> bool:
        return not self.entries and not self.replies and not self.checks

    @property
    def sections(self) -> list[Section]:
        grouped: dict[str, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            grouped[entry.section].append(entry)
        return [Section(key, SECTION_TITLES[key], grouped[key]) for key in SECTIONS if grouped[key]]

    def deliveries(self) -> list[Delivery]:
        """A ``delivered`` event for each norm whose text the digest presented.

        A reply excerpt alone does not present the norm, so replies-only norms
        get none.
        """
        # The current version's material family is the norm's newest material version.
        return [
            Delivery(e.norm.id, e.norm.current_version_number, e.norm.last_material_version_number)
            for e in self.entries
        ]


def subject_line(digest: Digest) -> str:
    count = digest.norm_count
    if count == 0 and digest.checks:
        checks = len(digest.checks)
        if checks == 1:
            return "Your NormHub digest — someone checked what you have read"
        return f"Your NormHub digest — {checks} checks of what you have read"
    noun = "norm needs" if count == 1 else "norms need"
    return f"Your NormHub digest — {count} {noun} you"
