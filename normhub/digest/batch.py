"""One batch's facts, as the digest builder's queries found them, grouped into
each member's digest in Python (no queries here)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from normhub.digest.content import SECTIONS, CheckNotice, Digest, Entry, Reply
from normhub.digest.links import Links
from normhub.exposure import told
from normhub.exposure.levels import DELIVERED, EXPOSED
from normhub.norms.refs import CommunityRef, NormRef, norm_ref
from normhub.responses.services import RevisedSinceResponse

REPLY_EXCERPT = 280
CHANGES_SHOWN = 5


def excerpt(text: str, limit: int = REPLY_EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass
class BatchFacts:
    """What one batch's queries found, before it is grouped per member."""

    now: datetime
    links: Links
    communities: dict[int, CommunityRef]
    window_starts: dict[int, datetime]
    # Per member, the communities this digest is for (preference matches, not
    # covered by a --community run); ``community_ids`` is all of them.
    member_communities: dict[int, list[int]]
    community_ids: set[int]
    # Every norm met in the batch, one reference each.
    norms: dict[int, NormRef] = field(default_factory=dict)
    opened_or_in_force: list[NormRef] = field(default_factory=list)
    revised: dict[int, list[tuple[NormRef, RevisedSinceResponse]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # Norms close to the gate (norm id → coverage %) and where each member is
    # with them: (user id, norm id) → (material base, exposure level).
    approaching: dict[int, int] = field(default_factory=dict)
    progress: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    # Reply rows (see ``replies_to_members``) and nudges, per member.
    replies: dict[int, list] = field(default_factory=lambda: defaultdict(list))
    nudges: dict[int, list] = field(default_factory=lambda: defaultdict(list))
    # Check rows (see ``checks_about_members``) per member, and the members whose
    # digest also carries checks made outside their digest's communities (the
    # full digest of their shortest period: see ``DigestBuilder._find_checks``).
    checks: dict[int, list] = field(default_factory=lambda: defaultdict(list))
    other_checks_for: set[int] = field(default_factory=set)

    @property
    def earliest_start(self) -> datetime:
        return min(self.window_starts.values())

    def norm(self, norm) -> NormRef:
        """The batch's one reference to ``norm`` (a row with NORM_REF_COLUMNS, or a Norm)."""
        ref = self.norms.get(norm.id)
        if ref is None:
            community = self.communities[norm.community_id]
            ref = self.norms[norm.id] = norm_ref(norm, self.links.norm(community.slug, norm.slug))
        return ref


class MemberDigest:
    """One member's part of a batch, gathered section by section: a norm met
    again gets another reason, not a second entry."""

    def __init__(self, batch: BatchFacts, member_id: int):
        self.batch = batch
        self.member_id = member_id
        self.start = batch.window_starts[member_id]
        self.community_ids = set(batch.member_communities.get(member_id, ())) & batch.community_ids
        self.entries: dict[int, Entry] = {}

    def _add(self, ref: NormRef, reason: str) -> Entry:
        found = self.entries.get(ref.id)
        if found is None:
            found = self.entries[ref.id] = Entry(ref, self.batch.communities[ref.community_id])
        if reason not in found.reasons:
            found.reasons.append(reason)
        return found

    def _in_window(self, when: datetime) -> bool:
        return self.start <= when < self.batch.now

    def add_nudges(self) -> list[int]:
        """Adds the member's nudged norms; returns the nudges' ids."""
        nudge_ids = []
        for nudge in self.batch.nudges.get(self.member_id, ()):
            if nudge.norm.community_id not in self.community_ids:
                continue
            found = self._add(self.batch.norm(nudge.norm), "nudged")
            if nudge.created_by.display_name not in found.nudged_by:
                found.nudged_by.append(nudge.created_by.display_name)
            nudge_ids.append(nudge.id)
        return nudge_ids

    def add_revisions(self) -> bool:
        """Adds norms revised materially in the window since the member responded."""
        news = False
        for ref, revised in self.batch.revised.get(self.member_id, ()):
            if ref.community_id not in self.community_ids:
                continue
            if not revised.changed_materially_between(self.start, self.batch.now):
                continue  # already reported in an earlier digest
            found = self._add(ref, "revised")
            found.responded_version = revised.responded_number
            found.changes = revised.changes[-CHANGES_SHOWN:]
            news = True
        return news

    def add_approaching(self) -> bool:
        """Adds norms close to the gate that the member has not read; True if any is news."""
        news = False
        for norm_id, pct in self.batch.approaching.items():
            ref = self.batch.norms[norm_id]
            if ref.community_id not in self.community_ids:
                continue
            base, level = self.batch.progress.get((self.member_id, norm_id), (0, 0))
            on_current = base == ref.last_material_version_number
            if on_current and level >= EXPOSED:
                continue
            self._add(ref, "approaching").coverage_pct = pct
            # Already delivered (or opened) this version: a reminder, not news.
            if not (on_current and level >= DELIVERED):
                news = True
        return news

    def add_opened_or_in_force(self) -> bool:
        """Adds norms that opened (not the member's own) or came into force in the window."""
        news = False
        for ref in self.batch.opened_or_in_force:
            if ref.community_id not in self.community_ids:
                continue
            if not self._in_window(ref.status_changed_at):
                continue
            if ref.status == "open" and ref.author_id == self.member_id:
                continue
            self._add(ref, "opened" if ref.status == "open" else "in_force")
            news = True
        return news

    def replies(self) -> list[Reply]:
        """Others' replies to the member's comments, in the window."""
        replies = []
        for row in self.batch.replies.get(self.member_id, ()):
            if row.community_id not in self.community_ids or row.created_at < self.start:
                continue
            ref = self.batch.norm(row)
            replies.append(
                Reply(
                    row.reply_id,
                    ref,
                    self.batch.communities[ref.community_id],
                    row.author_name,
                    excerpt(row.body),
                    row.created_at,
                    f"{ref.url}#comment-{row.reply_id}",
                )
            )
        return replies

    def checks(self) -> list[CheckNotice]:
        """Checks made about the member in the window: those in this digest's
        communities, and (in one digest only) those made anywhere else."""
        notices = []
        for row in self.batch.checks.get(self.member_id, ()):
            if row.created_at < self.start:
                continue
            if row.is_member and row.community_id not in self.community_ids:
                continue  # another digest's (or none: that community's digest is off)
            if not row.is_member and self.member_id not in self.batch.other_checks_for:
                continue
            notices.append(self._notice(row))
        return notices

    def _notice(self, row) -> CheckNotice:
        when = told.short_date(row.created_at, self.batch.now)
        if not row.shown:  # a members-only community they are not in: nothing of it
            return CheckNotice(row.id, row.created_at, when, shown=False)
        return CheckNotice(
            row.id,
            row.created_at,
            when,
            shown=True,
            checker_name=row.checker_name,
            norm_title=row.norm_title,
            norm_url=self.batch.links.norm(row.community_slug, row.norm_slug),
            community_name=row.community_name,
            as_of=row.as_of,
            told=told.sentence(told.told_you(row.level, row.stale, row.recommendation)),
            advice=told.advice_given(row.recommendation),
            community_id=row.community_id,
        )

    def ordered_entries(self) -> list[Entry]:
        return sorted(
            self.entries.values(),
            key=lambda e: (SECTIONS.index(e.section), e.community.name.lower(), e.norm.title),
        )

    def digest(self, email: str, display_name: str, kind: str, key: str, scope: int) -> Digest:
        """The member's digest, its sections gathered in the order a reader sees them."""
        nudge_ids = self.add_nudges()
        news = bool(nudge_ids)
        news |= self.add_revisions()
        news |= self.add_approaching()
        news |= self.add_opened_or_in_force()
        replies = self.replies()
        checks = self.checks()
        return Digest(
            user_id=self.member_id,
            email=email,
            display_name=display_name,
            period_kind=kind,
            period_key=key,
            window_start=self.start,
            window_end=self.batch.now,
            entries=self.ordered_entries(),
            replies=replies,
            nudge_ids=nudge_ids,
            has_news=news or bool(replies) or bool(checks),
            community_ids=sorted(self.community_ids),
            scope=scope,
            checks=checks,
            checks_url=self.batch.links.url("exposure.checks_about_me") if checks else "",
        )
