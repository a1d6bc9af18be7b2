"""What a digest holds, as plain values the digest email's templates read.

A norm appears once per digest, in the first section that applies (in the
order of ``PRECEDENCE``), with its other reasons noted on it in plain words. The
norm sections are what "needs you": norms the member wrote, and norms they
have answered on their current text, are never in them. Replies to the
member's comments are listed apart (an excerpt does not present the norm), and
so are the checks made about the member and their other unread notifications
that wait for the digest.
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
SECTIONS = ("start_here", "nudged", "revised", "approaching", "opened", "in_force")
# A norm with several reasons is told of in the first section of this order. The lead
# of a newcomer's digest (``digest.path_lead``) comes first on the page but takes only
# the norms no other section tells of: a norm that just came into force says so.
PRECEDENCE = (*SECTIONS[1:], "start_here")
PRECEDENCE_RANK = {name: rank for rank, name in enumerate(PRECEDENCE)}
SECTION_TITLES = {
    "start_here": "Start here: next on your community's path for newcomers",
    "nudged": "A steward asked you to look at",
    "revised": "Changed since you responded",
    "approaching": "Close to the in-force gate, and you haven't read it yet",
    "opened": "New for discussion",
    "in_force": "Now in force",
}


# A reason a norm is in the digest besides its section's, as a line under it. The
# nudge, the revision and the coverage have lines of their own whatever the section.
# Both are status changes: the template adds when it happened.
ALSO_SAID = {"opened": "It opened for discussion", "in_force": "It came into force"}


@dataclass(slots=True)
class Entry:
    """One norm in one member's digest."""

    norm: NormRef
    community: CommunityRef
    reasons: list[str] = field(default_factory=list)
    responded_version: int | None = None
    changes: list[VersionChange] = field(default_factory=list)
    coverage_pct: int | None = None
    nudged_by: list[str] = field(default_factory=list)
    # Its place on its community's path for newcomers ("start_here" entries only).
    path_position: int = 0
    # Where it goes in its digest, once the digest is put in order (``digest.member``).
    order: tuple = field(default=(), compare=False, repr=False)

    @property
    def section(self) -> str:
        if len(self.reasons) == 1:  # most entries: asked for each of them in every sort
            return self.reasons[0]
        return min(self.reasons, key=PRECEDENCE_RANK.__getitem__)

    def copy(self) -> Entry:
        """An entry of its own, to change without changing this one."""
        return Entry(
            self.norm,
            self.community,
            list(self.reasons),
            self.responded_version,
            list(self.changes),
            self.coverage_pct,
            list(self.nudged_by),
            self.path_position,
        )

    @property
    def also_said(self) -> list[str]:
        """The other reasons, in the words a reader uses."""
        return [ALSO_SAID[r] for r in self.reasons if r != self.section and r in ALSO_SAID]


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
class Notice:
    """An unread notification of a kind the member takes in the digest (a mention, a
    reminder, news of a norm they wrote): its own words, and where it leads."""

    id: int
    kind: str
    community: CommunityRef
    summary: str
    url: str
    updated_at: datetime


@dataclass
class ReviewWaiting:
    """A review round the member was asked to answer (they responded to the norm)."""

    review_id: int
    norm: NormRef
    community: CommunityRef
    opened_at: datetime
    url: str


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
    notices: list[Notice] = field(default_factory=list)
    # Communities by id, the digest's among them (the batch's, shared: for the subject).
    communities: dict[int, CommunityRef] = field(default_factory=dict)
    # True when some kind of notification reaches the member by email at once:
    # the footer says those are not repeated here.
    emails_at_once: bool = False
    notification_settings_url: str = ""
    # Review rounds waiting for the member's answer.
    reviews: list[ReviewWaiting] = field(default_factory=list)

    @property
    def norm_ids(self) -> set[int]:
        return {e.norm.id for e in self.entries} | {r.norm.id for r in self.replies}

    @property
    def norm_count(self) -> int:
        """Norms the digest tells of, replies' norms included (the send's record)."""
        return len(self.norm_ids)

    @property
    def needs_you(self) -> int:
        """The subject's count: norms in the norm sections, all waiting for the member
        (their own norms and those they answered on the current text are never there)."""
        return len(self.entries)

    @property
    def is_empty(self) -> bool:
        return not (self.entries or self.replies or self.checks or self.notices or self.reviews)

    @property
    def presented_community_ids(self) -> set[int]:
        """The digest's communities whose content it shows (a check from a community
        the member is not in names none)."""
        shown = {e.community.id for e in self.entries}
        shown |= {r.community.id for r in self.replies}
        shown |= {n.community.id for n in self.notices}
        shown |= {r.community.id for r in self.reviews}
        shown |= {c.community_id for c in self.checks}
        return shown & set(self.community_ids)

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
    """The subject, as in "Your NormHub digest from Riverside Commons — 2 norms need you"."""
    return f"Your NormHub digest{_from_communities(digest)} — {_headline(digest)}"


def _from_communities(digest: Digest) -> str:
    """One or two communities by name; three or more by how many. None named when
    the digest shows nothing of a community (only checks from outside)."""
    names = sorted(
        (digest.communities[c].name for c in digest.presented_community_ids), key=str.lower
    )
    if not names:
        return ""
    if len(names) > 2:
        return f" from {len(names)} communities"
    return " from " + " and ".join(names)


def _headline(digest: Digest) -> str:
    if digest.needs_you:
        return _counted(digest.needs_you, "norm needs you", "norms need you")
    if digest.reviews:
        return _counted(len(digest.reviews), "review waits for you", "reviews wait for you")
    if digest.replies:
        return _counted(len(digest.replies), "reply to your comments", "replies to your comments")
    if digest.checks:
        if len(digest.checks) == 1:
            return "someone checked what you have read"
        return f"{len(digest.checks)} checks of what you have read"
    if digest.notices:
        return _counted(len(digest.notices), "unread notification", "unread notifications")
    return "nothing new"


def _counted(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"
