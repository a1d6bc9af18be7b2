"""One member's digest, grouped from their batch's facts (``batch.BatchFacts``) in
Python (no queries here).

What a member's digest carries follows their notification settings, kind by
kind (``KIND_OF``): a kind they take in the digest is in it; a kind they take by
email at once is left out where its notice went by email already (it is still
in the digest where no notice was made: a norm opening in a community they do
not watch, a check made in a community they are not in); a kind they turned off
is left out. Norms close to the gate and norms coming into force have no notice,
so no setting. The kinds no section stands for come from the notices
themselves (``NOTICE_KINDS``). The norm sections leave out norms the member
wrote and norms they answered on the current text: those need nothing of them.
"""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter

from normhub.digest.batch import BatchFacts
from normhub.digest.content import CheckNotice, Digest, Entry, Notice, Reply, ReviewWaiting
from normhub.digest.path_lead import NORMS_LED
from normhub.exposure import told
from normhub.exposure.levels import DELIVERED, EXPOSED
from normhub.norms.refs import NormRef
from normhub.notifications.batch import DEFAULTS
from normhub.notifications.kinds import DIGEST, KINDS

REPLY_EXCERPT = 280
CHANGES_SHOWN = 5

# The kind of notification each part of the digest stands for.
KIND_OF = {
    "nudged": "nudge",
    "revised": "revised",
    "opened": "opened",
    "replies": "reply",
    "checks": "check",
    "reviews": "review",
}
# Kinds no part stands for: their unread notices are listed as they are.
NOTICE_KINDS = tuple(kind for kind in KINDS if kind not in KIND_OF.values())


def excerpt(text: str, limit: int = REPLY_EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class MemberDigest:
    """One member's part of a batch, gathered section by section: a norm met
    again gets another reason, not a second entry.

    An entry with nothing of the member's own (a norm that opened, is close to the
    gate, is the next step on a path) is one the batch shares; the member's digest
    owns (``_owned``) the entries it made or copied (a nudge, a revision: who nudged,
    what changed), and changes only those."""

    def __init__(self, batch: BatchFacts, member_id: int):
        self.batch = batch
        self.member_id = member_id
        self.start = batch.window_starts[member_id]
        self.community_ids = set(batch.member_communities.get(member_id, ())) & batch.community_ids
        self.settings = batch.settings.get(member_id, DEFAULTS)
        self.answered = batch.answered.get(member_id, set())
        self.entries: dict[int, Entry] = {}
        self._owned: set[int] = set()
        # Pending nudges this digest settles, shown or not: marked delivered when it is sent.
        self.nudge_ids: list[int] = []

    def _add(self, ref: NormRef, reason: str) -> Entry:
        """The member's own entry for ``ref``, with ``reason`` among its reasons."""
        found = self.entries.get(ref.id)
        if found is None or ref.id not in self._owned:
            found = self.entries[ref.id] = (
                found.copy()
                if found is not None
                else Entry(ref, self.batch.communities[ref.community_id])
            )
            self._owned.add(ref.id)
        if reason not in found.reasons:
            found.reasons.append(reason)
        return found

    def _tell(
        self,
        ref: NormRef,
        reason: str,
        shared: Entry,
        *,
        path_position: int = 0,
        coverage_pct: int | None = None,
    ) -> None:
        """Adds ``ref`` for ``reason``, with facts the same for every member (its place
        on the path, its coverage): ``shared`` (the batch's entry saying just that)
        if the norm is new to the digest, else the shared entry with both reasons,
        unless the member's digest holds one of its own for the norm."""
        found = self.entries.get(ref.id)
        if found is None:
            self.entries[ref.id] = shared
            return
        if ref.id in self._owned:
            if reason not in found.reasons:
                found.reasons.append(reason)
            found.path_position = path_position or found.path_position
            found.coverage_pct = found.coverage_pct if coverage_pct is None else coverage_pct
            return
        reasons = tuple(found.reasons) + (() if reason in found.reasons else (reason,))
        self.entries[ref.id] = self.batch.shared_entry(
            ref,
            reasons,
            path_position or found.path_position,
            found.coverage_pct if coverage_pct is None else coverage_pct,
        )

    def _in_window(self, when: datetime) -> bool:
        return self.start <= when < self.batch.now

    def carries(self, part: str, community_id: int, *, notified: bool = True) -> bool:
        """Whether the member's settings for ``part``'s kind let the digest tell it:
        not turned off, and not emailed at once already (``notified`` False: no
        notice was made, so no email either)."""
        return self.settings.for_digest(KIND_OF[part], community_id, notified=notified)

    def needs_member(self, ref: NormRef) -> bool:
        """A norm the member neither wrote nor answered on its current text."""
        return ref.author_id != self.member_id and ref.id not in self.answered

    def add_nudges(self) -> bool:
        """Adds the member's nudged norms; True if any is shown.

        Every pending nudge in the digest's communities is settled by it: one
        left out went by email at once, or was seen in the app only (the
        member's choice), or asks what the member has done since."""
        news = False
        for nudge in self.batch.nudges.get(self.member_id, ()):
            community_id = nudge.norm.community_id
            if community_id not in self.community_ids:
                continue
            self.nudge_ids.append(nudge.id)
            ref = self.batch.norm(nudge.norm)
            if not (self.carries("nudged", community_id) and self.needs_member(ref)):
                continue
            found = self._add(ref, "nudged")
            if nudge.created_by.display_name not in found.nudged_by:
                found.nudged_by.append(nudge.created_by.display_name)
            news = True
        return news

    def add_path_lead(self) -> bool:
        """A newcomer's digest leads with the next norms on each community's path."""
        leads = self.batch.path_leads
        if not leads.newcomers:
            return False
        led = False
        for community_id in self.community_ids:
            if self._lead_with_opening(community_id):
                led = True
                continue
            shown = 0
            for step in leads.steps_left(self.member_id, community_id):
                ref, shared = self.batch.path_step(step)
                if not self.needs_member(ref):
                    continue
                self._tell(ref, "start_here", shared, path_position=step.position)
                shown += 1
                if shown == NORMS_LED:
                    break
            led |= shown > 0
        return led

    def _lead_with_opening(self, community_id: int) -> bool:
        """Most newcomers have read nothing of a path, answered nothing and wrote none of
        its first steps: their lead is the path's opening, the same for all of them."""
        leads = self.batch.path_leads
        if not leads.is_new_to_path(self.member_id, community_id) or self.answered:
            return False
        opening, authors = self.batch.path_opening(community_id, NORMS_LED)
        if not opening or self.member_id in authors:
            return False
        self.entries.update(opening)  # the first section: the digest holds nothing yet
        return True

    def add_revisions(self) -> bool:
        """Adds norms revised materially in the window since the member responded."""
        news = False
        for ref, revised in self.batch.revised.get(self.member_id, ()):
            if ref.community_id not in self.community_ids:
                continue
            if not revised.changed_materially_between(self.start, self.batch.now):
                continue  # already reported in an earlier digest
            if not (self.carries("revised", ref.community_id) and self.needs_member(ref)):
                continue
            found = self._add(ref, "revised")
            found.responded_version = revised.responded_number
            found.changes = revised.changes[-CHANGES_SHOWN:]
            news = True
        return news

    def add_approaching(self) -> bool:
        """Adds norms close to the gate that the member has not read; True if any is news."""
        news = False
        for community_id in self.community_ids:
            for ref, pct, shared in self.batch.approaching_news(community_id):
                news |= self._add_approaching(ref, pct, shared)
        return news

    def _add_approaching(self, ref: NormRef, pct: int, shared: Entry) -> bool:
        """Adds one norm close to the gate, unless the member read it; True if news."""
        if not self.needs_member(ref):
            return False
        base, level = self.batch.progress.get((self.member_id, ref.id), (0, 0))
        on_current = base == ref.last_material_version_number
        if on_current and level >= EXPOSED:
            return False
        self._tell(ref, "approaching", shared, coverage_pct=pct)
        # Already delivered (or opened) this version: a reminder, not news.
        return not (on_current and level >= DELIVERED)

    def add_opened_or_in_force(self) -> bool:
        """Adds norms that opened or came into force in the window (no norm coming into
        force has a notice of its own but its author's, which is among the notices)."""
        news = False
        for community_id in self.community_ids:
            carries_opened = self.carries("opened", community_id)
            for ref, reason, shared in self.batch.status_news(community_id, self.start):
                if (reason == "opened" and not carries_opened) or not self.needs_member(ref):
                    continue
                self._tell(ref, reason, shared)
                news = True
        return news

    def replies(self) -> list[Reply]:
        """Others' replies to the member's comments, in the window."""
        replies = []
        for row in self.batch.replies.get(self.member_id, ()):
            if row.community_id not in self.community_ids or row.created_at < self.start:
                continue
            if not self.carries("replies", row.community_id):
                continue
            ref = self.batch.norm(row)
            community = self.batch.communities[ref.community_id]
            replies.append(
                Reply(
                    row.reply_id,
                    ref,
                    community,
                    row.author_name,
                    excerpt(row.body),
                    row.created_at,
                    self.batch.links.comment(community.slug, row.reply_id),
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
            # No notice is made of a check in a community the member is not in.
            if not self.carries("checks", row.community_id, notified=row.is_member):
                continue
            notices.append(self._notice(row))
        return notices

    def notices(self) -> list[Notice]:
        """The member's unread notices, of the kinds no section stands for, that they
        take in the digest."""
        rows = self.batch.notices.get(self.member_id)
        if not rows:
            return []
        return [
            Notice(
                row.id,
                row.kind,
                self.batch.communities[row.community_id],
                row.summary,
                self.batch.links.base + row.target,
                row.updated_at,
            )
            for row in rows
            if row.community_id in self.community_ids
            and row.updated_at >= self.start
            and self.settings.delivery(row.kind) == DIGEST
        ]

    def reviews(self) -> tuple[list[ReviewWaiting], bool]:
        """Review rounds waiting for the member's answer, and whether one opened in the
        window (a round still waiting is listed again, but is not news)."""
        waiting, news = [], False
        for row in self.batch.reviews.get(self.member_id, ()):
            if row.community_id not in self.community_ids:
                continue
            if not self.carries("reviews", row.community_id):
                continue
            ref = self.batch.norm(row)
            community = self.batch.communities[ref.community_id]
            url = self.batch.links.url(
                "reviews.show", slug=community.slug, norm_ref=ref.slug, review_id=row.review_id
            )
            waiting.append(ReviewWaiting(row.review_id, ref, community, row.opened_at, url))
            news |= self._in_window(row.opened_at)
        return waiting, news

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
        if len(self.entries) < 2:
            return list(self.entries.values())
        for norm_id in self._owned:  # the shared entries have their order already
            entry = self.entries[norm_id]
            entry.order = self.batch.order_of(entry)
        return sorted(self.entries.values(), key=attrgetter("order"))

    def digest(self, email: str, display_name: str, kind: str, key: str, scope: int) -> Digest:
        """The member's digest, its sections gathered in the order a reader sees them."""
        news = self.add_path_lead()
        news |= self.add_nudges()
        news |= self.add_revisions()
        news |= self.add_approaching()
        news |= self.add_opened_or_in_force()
        replies = self.replies()
        checks = self.checks()
        notices = self.notices()
        reviews, reviews_news = self.reviews()
        news |= reviews_news
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
            nudge_ids=self.nudge_ids,
            has_news=news or bool(replies) or bool(checks) or bool(notices),
            community_ids=sorted(self.community_ids),
            scope=scope,
            checks=checks,
            checks_url=self.batch.links.url("exposure.checks_about_me") if checks else "",
            notices=notices,
            communities=self.batch.communities,
            emails_at_once=self.settings.emails_any_kind,
            reviews=reviews,
        )
