"""Building each member's digest, for batches of members.

What a member's digest holds (only from communities they are an active member
of, and whose digest preference matches the period being sent):

* norms a steward nudged them about (pending nudges);
* norms they responded to that had a *material* revision since their response,
  newer than the window start, with the change summaries;
* open norms close to the in-force gate that they have not read yet;
* norms newly open for discussion and norms newly in force;
* replies by others to their comments;
* checks others made of what they had read: those in the digest's
  communities, and, in the full digest of their shortest period only, those
  made anywhere else (from a members-only community they are not in, only
  that a check happened, and when);
* their other unread notifications that wait for the digest (mentions,
  reminders, news of norms they wrote), as the notices word them.

Each part follows the member's notification settings for its kind (see
``member``); the norm sections never hold a norm the member wrote or answered
on its current text.

The window is [start, end): ``end`` is when the digest is built; ``start`` is
the end of the member's last *sent* digest of the same period kind, or one
period back if there is none. Looking back is capped at ``MAX_LOOKBACK_PERIODS``
periods, so someone who switches digests back on after a year gets a digest,
not an archive.

Digests are built for batches of members with a constant number of queries per
batch (members are never queried one by one): every query takes the batch's
member ids with ``IN (...)``, and rows are grouped in Python. Which replies and
revisions count is the discussion's and the responses' rule, in their batch
form; nudges come from the exposure service. Facts that do not depend on the
member (each open norm's coverage) are computed once per run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.db import utcnow
from normhub.digest.batch import BatchFacts
from normhub.digest.content import CommunityFooter, Digest
from normhub.digest.gate import approaching_gate
from normhub.digest.links import Links
from normhub.digest.member import NOTICE_KINDS, MemberDigest
from normhub.digest.models import ALL_COMMUNITIES, COVERING_STATUSES, DigestSend
from normhub.digest.path_lead import LeadPath, lead_paths, path_leads
from normhub.digest.periods import check_period, period_key, period_length
from normhub.digest.preferences import digest_memberships
from normhub.discussion.services import replies_to_members
from normhub.exposure.check_records import checks_about_members
from normhub.exposure.models import ExposureSummary
from normhub.exposure.nudges import pending_nudges
from normhub.idlist import id_list, in_ids
from normhub.norms.models import Norm
from normhub.norms.refs import NORM_REF_COLUMNS, CommunityRef, NormRef
from normhub.notifications.batch import settings_of_members, unread_notices
from normhub.responses.services import answered_current, revised_since_responses
from normhub.reviews.services import waiting_reviews

MAX_LOOKBACK_PERIODS = 4


@dataclass
class Member:
    """Whom a digest is for."""

    id: int
    email: str
    display_name: str


class DigestBuilder:
    """Builds digests for batches of members, with a fixed number of queries per batch.

    ``community_ids`` limits content (and, for the send command, recipients) to
    some communities: ``--community`` and the steward preview use it.

    ``scope`` is the ledger scope the digests are recorded under (see
    ``DigestSend``). The window starts at the end of the member's last sent
    digest of the same scope, or of a full one. A full digest (scope 0) leaves
    out the communities a ``--community`` run of the same period already
    covers for the member, so each community's content goes out once.

    ``personal``: list the checks made about each member and their unread
    notifications (off for a steward's preview of someone else's digest: those
    are for the member alone).
    """

    def __init__(
        self,
        session: Session,
        period_kind: str,
        links: Links,
        now: datetime | None = None,
        community_ids: set[int] | None = None,
        scope: int = ALL_COMMUNITIES,
        personal: bool = True,
    ):
        self.session = session
        self.personal = personal
        self.scope = scope
        self.kind = check_period(period_kind)
        self.links = links
        self.now = now or utcnow()
        self.key = period_key(self.kind, self.now)
        self.length = period_length(self.kind)
        self.community_ids = community_ids
        self._communities: dict[int, CommunityRef] | None = None
        # Open norms close to the gate, for the communities counted so far.
        self._approaching: dict[int, tuple[int, int]] = {}
        self._approaching_counted: set[int] = set()
        self._approaching_norms: dict[int, Norm] = {}
        self._paths: dict[int, LeadPath] = {}
        # Norms that opened or came into force since the earliest any window starts, per
        # community counted so far; and one reference per norm met, for every batch.
        self._status_changes: dict[int, list[NormRef]] = {}
        self._refs: dict[int, NormRef] = {}

    # -- run-level facts (computed once, not per batch)

    def communities(self) -> dict[int, CommunityRef]:
        if self._communities is None:
            query = select(
                Community.id,
                Community.slug,
                Community.name,
                Community.visibility,
                Community.coverage_threshold_pct,
            )
            if self.community_ids is not None:
                query = query.where(Community.id.in_(self.community_ids))
            self._communities = {row.id: CommunityRef(*row) for row in self.session.execute(query)}
        return self._communities

    def approaching(self, community_ids: set[int]) -> dict[int, tuple[int, int]]:
        """Open norms close to (not past) the gate: norm id → (community id, coverage %).

        Counted once a run for each community, when a batch first needs it: a
        preview for one member counts their communities only, not every one.
        """
        missing = community_ids - self._approaching_counted
        if missing:
            found = approaching_gate(self.session, missing)
            self._approaching_counted |= missing
            self._approaching_norms.update({norm.id: norm for norm, _ in found.values()})
            self._approaching.update(
                {norm_id: (norm.community_id, pct) for norm_id, (norm, pct) in found.items()}
            )
        return self._approaching

    def paths(self, community_ids: Iterable[int]) -> dict[int, LeadPath]:
        """Communities' paths for newcomers, each loaded once a run: the norms in
        force do not change while the digests go out, and reloading them took a
        tenth of every batch."""
        missing = set(community_ids) - self._paths.keys()
        if missing:
            self._paths.update(lead_paths(self.session, missing))
        return {community_id: self._paths[community_id] for community_id in community_ids}

    # -- per batch

    def matched_communities(self, user_ids: list[int]) -> tuple[dict[int, list[int]], set[int]]:
        """Communities whose digest preference matches this period, per member; and the
        members who get a daily digest from some community."""
        result: dict[int, list[int]] = defaultdict(list)
        daily: set[int] = set()
        for user_id, community_id, frequency in self.session.execute(
            digest_memberships(self.community_ids).where(in_ids(Membership.user_id, user_ids))
        ):
            if frequency == self.kind:
                result[user_id].append(community_id)
            if frequency == "daily":
                daily.add(user_id)
        return result, daily

    def last_sent(self, user_ids: list[int]) -> dict[int, datetime]:
        parameters = {
            "user_ids": user_ids,
            "kind": self.kind,
            "scopes": sorted({ALL_COMMUNITIES, self.scope}),
        }
        return dict(self.session.execute(_last_sent_statement(), parameters).all())

    def covered(self, user_ids: list[int]) -> dict[int, set[int]]:
        """Communities a ``--community`` run of this period covers, per member."""
        result: dict[int, set[int]] = defaultdict(set)
        if self.scope != ALL_COMMUNITIES:
            return result
        parameters = {"user_ids": user_ids, "kind": self.kind, "key": self.key}
        for user_id, community_id in self.session.execute(_covered_statement(), parameters):
            result[user_id].add(community_id)
        return result

    def build(self, members: list[Member]) -> dict[int, Digest]:
        """Each member's digest (empty ones included; callers skip those)."""
        if not members:
            return {}
        user_ids = [m.id for m in members]
        batch = self._start_batch(user_ids)
        if not batch.community_ids:
            return {m.id: self._empty(m, batch.window_starts[m.id]) for m in members}
        self._find_opened_or_in_force(batch)
        self._find_revisions_since_responses(batch, user_ids)
        self._find_answered(batch, user_ids)
        self._find_progress_near_gate(batch, user_ids)
        self._find_replies(batch, user_ids)
        self._find_nudges(batch, user_ids)
        self._find_checks(batch, user_ids)
        self._find_notices(batch, user_ids)
        batch.path_leads = path_leads(self.session, user_ids, batch.community_ids, self.paths)
        self._find_reviews(batch, user_ids)
        return {
            m.id: MemberDigest(batch, m.id).digest(
                m.email, m.display_name, self.kind, self.key, self.scope
            )
            for m in members
        }

    # -- the batch's queries, in the order they run (each fills in ``batch``)

    def _start_batch(self, user_ids: list[int]) -> BatchFacts:
        """Each member's communities for this digest, and where their window starts."""
        communities = self.communities()
        member_communities, daily = self.matched_communities(user_ids)
        for user_id, done in self.covered(user_ids).items():
            member_communities[user_id] = [
                c for c in member_communities.get(user_id, ()) if c not in done
            ]
        return BatchFacts(
            now=self.now,
            links=self.links,
            communities=communities,
            norms=self._refs,
            window_starts=self._window_starts(user_ids),
            member_communities=member_communities,
            community_ids={
                c for ids in member_communities.values() for c in ids if c in communities
            },
            other_checks_for=self._other_checks_for(user_ids, daily),
            settings=settings_of_members(self.session, user_ids),
        )

    def _other_checks_for(self, user_ids: list[int], daily: set[int]) -> set[int]:
        """Whose digest lists the checks made outside its communities: a full digest,
        and the daily one for members who get both (so each check is told once)."""
        if not self.personal or self.scope != ALL_COMMUNITIES:
            return set()
        if self.kind == "daily":
            return set(user_ids)
        return {user_id for user_id in user_ids if user_id not in daily}

    def _window_starts(self, user_ids: list[int]) -> dict[int, datetime]:
        """The end of each member's last sent digest, at most the lookback cap ago;
        one period back for a member with none."""
        last_sent = self.last_sent(user_ids)
        earliest = self.now - self.length * MAX_LOOKBACK_PERIODS
        starts: dict[int, datetime] = {}
        for user_id in user_ids:
            previous = last_sent.get(user_id)
            starts[user_id] = (
                max(previous, earliest) if previous is not None else self.now - self.length
            )
        return starts

    def _find_opened_or_in_force(self, batch: BatchFacts) -> None:
        """Norms whose status became open or in force since the earliest a window can
        start: found once a run for each community, when a batch first needs it (each
        member's window is applied to them in ``BatchFacts.status_news``)."""
        missing = batch.community_ids - self._status_changes.keys()
        if missing:
            for community_id in missing:
                self._status_changes[community_id] = []
            rows = self.session.execute(
                select(*NORM_REF_COLUMNS).where(
                    Norm.community_id.in_(missing),
                    Norm.status.in_(("open", "in_force")),
                    Norm.status_changed_at >= self.now - self.length * MAX_LOOKBACK_PERIODS,
                )
            )
            for row in rows:
                self._status_changes[row.community_id].append(batch.norm(row))
        for community_id in batch.community_ids:
            batch.opened_or_in_force[community_id] = self._status_changes[community_id]

    def _find_revisions_since_responses(self, batch: BatchFacts, user_ids: list[int]) -> None:
        for revised in revised_since_responses(self.session, user_ids, batch.community_ids):
            batch.revised[revised.user_id].append((batch.norm(revised.norm), revised))

    def _find_answered(self, batch: BatchFacts, user_ids: list[int]) -> None:
        """Which norms each member answered on the current text (the responses
        service, one query): those need nothing of them."""
        for user_id, norm_id in answered_current(self.session, user_ids, batch.community_ids):
            batch.answered[user_id].add(norm_id)

    def _find_progress_near_gate(self, batch: BatchFacts, user_ids: list[int]) -> None:
        """How far each member got with the batch's norms that are close to the gate."""
        norm_ids = []
        for norm_id, (community_id, pct) in self.approaching(batch.community_ids).items():
            if community_id in batch.community_ids:
                norm_ids.append(norm_id)
                batch.approaching_in[community_id].append((norm_id, pct))
        if not norm_ids:
            return
        for row in self.session.execute(
            select(
                ExposureSummary.user_id,
                ExposureSummary.norm_id,
                ExposureSummary.material_base,
                ExposureSummary.level,
            ).where(
                in_ids(ExposureSummary.user_id, user_ids),
                in_ids(ExposureSummary.norm_id, norm_ids),
            )
        ):
            batch.progress[(row.user_id, row.norm_id)] = (row.material_base, row.level)
        for norm_id in norm_ids:
            batch.norm(self._approaching_norms[norm_id])

    def _find_replies(self, batch: BatchFacts, user_ids: list[int]) -> None:
        for row in replies_to_members(
            self.session,
            user_ids,
            batch.community_ids,
            batch.earliest_start,
            self.now,
        ):
            batch.replies[row.recipient_id].append(row)

    def _find_nudges(self, batch: BatchFacts, user_ids: list[int]) -> None:
        """Nudges stewards queued (the exposure service loads them for the whole batch)."""
        for nudge in pending_nudges(self.session, user_ids):
            if nudge.norm.community_id in batch.community_ids:
                batch.nudges[nudge.member_id].append(nudge)

    def _find_checks(self, batch: BatchFacts, user_ids: list[int]) -> None:
        """Checks made about the batch's members (the exposure service, one query)."""
        if not self.personal:
            return
        for row in checks_about_members(self.session, user_ids, batch.earliest_start, self.now):
            batch.checks[row.subject_id].append(row)

    def _find_notices(self, batch: BatchFacts, user_ids: list[int]) -> None:
        """Unread notices of the kinds no section stands for (notifications, one query)."""
        if not self.personal:
            return
        for row in unread_notices(
            self.session,
            user_ids,
            NOTICE_KINDS,
            batch.community_ids,
            batch.earliest_start,
            self.now,
        ):
            batch.notices[row.user_id].append(row)

    def _find_reviews(self, batch: BatchFacts, user_ids: list[int]) -> None:
        """Review rounds waiting for each member's answer (the reviews service, one query)."""
        for row in waiting_reviews(self.session, user_ids, batch.community_ids):
            batch.reviews[row.user_id].append(row)

    def _empty(self, member: Member, start: datetime) -> Digest:
        return Digest(
            member.id,
            member.email,
            member.display_name,
            self.kind,
            self.key,
            start,
            self.now,
            [],
            [],
            [],
            False,
            [],
            scope=self.scope,
        )

    def finish(self, digest: Digest) -> Digest:
        """Add the unsubscribe and settings links: only for digests that are shown or sent."""
        if digest.is_empty or digest.footers:
            return digest
        communities = self.communities()
        # Checks from elsewhere alone: the footer offers the communities the digest is for.
        shown = sorted(
            digest.presented_community_ids or set(digest.community_ids),
            key=lambda c: communities[c].name.lower(),
        )
        digest.unsubscribe_url = self.links.unsubscribe(digest.user_id, shown)
        digest.footers = [
            CommunityFooter(
                communities[c],
                # one community: the header's link is that community's link
                digest.unsubscribe_url
                if len(shown) == 1
                else self.links.unsubscribe(digest.user_id, [c]),
            )
            for c in shown
        ]
        digest.settings_url = self.links.url("digest.preferences")
        digest.notification_settings_url = self.links.url("notifications.settings")
        return digest


# Statements of every batch (and every preview), built once with bound parameters:
# building and cache-keying them cost more CPU than running them.
@cache
def _last_sent_statement():
    return (
        select(DigestSend.user_id, func.max(DigestSend.window_end))
        .where(
            in_ids(DigestSend.user_id, id_list("user_ids")),
            DigestSend.period_kind == bindparam("kind"),
            DigestSend.status == "sent",
            DigestSend.scope.in_(bindparam("scopes", expanding=True)),
        )
        .group_by(DigestSend.user_id)
    )


@cache
def _covered_statement():
    return select(DigestSend.user_id, DigestSend.scope).where(
        in_ids(DigestSend.user_id, id_list("user_ids")),
        DigestSend.period_kind == bindparam("kind"),
        DigestSend.period_key == bindparam("key"),
        DigestSend.scope != ALL_COMMUNITIES,
        DigestSend.status.in_(COVERING_STATUSES),
    )


def preview_digest(
    session: Session,
    links: Links,
    member: User,
    period_kind: str,
    community_ids: set[int] | None = None,
    now: datetime | None = None,
    personal: bool = True,
) -> Digest:
    """What ``member``'s next digest of ``period_kind`` would hold now; records nothing.

    ``personal=False`` for anyone but the member: the checks about them and
    their notifications are theirs.
    """
    builder = DigestBuilder(
        session, period_kind, links, now=now, community_ids=community_ids, personal=personal
    )
    digest = builder.build([Member(member.id, member.email, member.display_name)])[member.id]
    return builder.finish(digest)
