"""Digest emails: preferences, unsubscribe tokens, building each member's digest.

What a member's digest holds (only from communities they are an active member
of, and whose digest preference matches the period being sent):

* norms a steward nudged them about (pending nudges);
* norms they responded to that had a *material* revision since their response,
  newer than the window start, with the change summaries;
* open norms close to the in-force gate that they have not read yet;
* norms newly open for discussion (not their own) and norms newly in force;
* replies by others to their comments.

The window is [start, end): ``end`` is when the digest is built; ``start`` is
the end of the member's last *sent* digest of the same period kind, or one
period back if there is none. Looking back is capped at ``MAX_LOOKBACK_PERIODS``
periods, so someone who switches digests back on after a year gets a digest,
not an archive.

Digests are built for batches of members with a constant number of queries per
batch (members are never queried one by one): every query takes the batch's
member ids with ``IN (...)``, and rows are grouped in Python. Facts that do not
depend on the member (each open norm's coverage) are computed once per run.
The discussion helper's ``replies_to`` and the exposure helper's
``reading_queue`` answer for one member at a time, so the batch reads their
tables directly with the same rules (visible, not hidden, not one's own).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from normhub import tokens
from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.db import utcnow
from normhub.digest.models import (
    ALL_COMMUNITIES,
    COVERING_STATUSES,
    DEFAULT_FREQUENCY,
    FREQUENCIES,
    PERIOD_KINDS,
    DigestPreference,
    DigestSend,
    EmailBounce,
)
from normhub.discussion.models import Comment
from normhub.errors import ValidationFailed
from normhub.exposure.bulk import Delivery
from normhub.exposure.coverage import coverage_for_norms
from normhub.exposure.levels import DELIVERED, EXPOSED
from normhub.exposure.models import ExposureSummary
from normhub.exposure.nudges import pending_nudges
from normhub.norms.models import Norm, NormVersion
from normhub.responses.models import Response

MAX_LOOKBACK_PERIODS = 4
# "Close to the in-force gate": coverage within this many percentage points of
# the community's threshold, but not past it yet.
APPROACHING_MARGIN_PCT = 25
REPLY_EXCERPT = 280
CHANGES_SHOWN = 5

# Sections in the order a reader sees them; a norm appears in the first that
# applies, and the other reasons are noted on it.
SECTIONS = ("nudged", "revised", "approaching", "opened", "in_force")
SECTION_TITLES = {
    "nudged": "A steward asked you to look at",
    "revised": "Changed since you responded",
    "approaching": "Close to the in-force gate, and you haven't read it yet",
    "opened": "New for discussion",
    "in_force": "Now in force",
}


# ---------------------------------------------------------------- periods


def period_key(kind: str, when: datetime) -> str:
    """``2026-11-23`` for a daily digest, ``2026-W48`` (ISO week) for a weekly one."""
    if kind == "daily":
        return when.date().isoformat()
    if kind == "weekly":
        year, week, _ = when.isocalendar()
        return f"{year}-W{week:02d}"
    raise ValueError(f"Unknown digest period {kind!r}")


def period_length(kind: str) -> timedelta:
    return timedelta(days=1) if kind == "daily" else timedelta(days=7)


def check_period(kind: str) -> str:
    if kind not in PERIOD_KINDS:
        raise ValidationFailed("The period must be daily or weekly.", field="period")
    return kind


# ------------------------------------------------------------ preferences


@dataclass
class PreferenceRow:
    community: Community
    frequency: str


def list_preferences(session: Session, user: User) -> list[PreferenceRow]:
    """One row per community ``user`` is an active member of; no stored row means weekly."""
    rows = session.execute(
        select(Community, DigestPreference.frequency)
        .join(Membership, Membership.community_id == Community.id)
        .outerjoin(
            DigestPreference,
            and_(
                DigestPreference.community_id == Community.id,
                DigestPreference.user_id == user.id,
            ),
        )
        .where(Membership.user_id == user.id, Membership.left_at.is_(None))
        .order_by(func.lower(Community.name), Community.id)
    ).all()
    return [PreferenceRow(c, frequency or DEFAULT_FREQUENCY) for c, frequency in rows]


def set_preference(session: Session, user_id: int, community_id: int, frequency: str) -> None:
    if frequency not in FREQUENCIES:
        raise ValidationFailed("Choose daily, weekly or off.", field="frequency")
    row = session.scalar(
        select(DigestPreference).where(
            DigestPreference.user_id == user_id, DigestPreference.community_id == community_id
        )
    )
    if row is None:
        session.add(
            DigestPreference(user_id=user_id, community_id=community_id, frequency=frequency)
        )
    elif row.frequency != frequency:
        row.frequency = frequency
        row.updated_at = utcnow()
    session.flush()


def save_preferences(session: Session, user: User, choices: dict[int, str]) -> int:
    """Apply ``{community_id: frequency}`` where ``user`` is an active member; count changes."""
    current = {row.community.id: row.frequency for row in list_preferences(session, user)}
    changed = 0
    for community_id, frequency in choices.items():
        if community_id not in current:
            continue  # not (or no longer) a member: nothing to set
        if current[community_id] != frequency:
            set_preference(session, user.id, community_id, frequency)
            changed += 1
    return changed


def bounce_for(session: Session, user: User) -> EmailBounce | None:
    """The suppression on ``user``'s current address, if mail to it bounced."""
    bounce = session.get(EmailBounce, user.id)
    return bounce if bounce is not None and bounce.email == user.email else None


def lift_bounce(session: Session, user: User) -> None:
    bounce = session.get(EmailBounce, user.id)
    if bounce is not None:
        session.delete(bounce)
        session.flush()


# ------------------------------------------------------- unsubscribe tokens


def make_unsubscribe_token(secret_key: str, user_id: int, community_ids: list[int]) -> str:
    """A signed token that turns digests off for ``user_id`` in ``community_ids``."""
    return tokens.sign(
        secret_key, tokens.UNSUBSCRIBE, {"u": user_id, "c": sorted(set(community_ids))}
    )


@dataclass(frozen=True)
class UnsubscribeRequest:
    user_id: int
    community_ids: tuple[int, ...]


def read_unsubscribe_token(
    secret_key: str, token: str, max_age: int | None = None
) -> UnsubscribeRequest:
    try:
        data = tokens.verify(secret_key, tokens.UNSUBSCRIBE, token, max_age)
    except tokens.TokenExpired as exc:
        raise ValidationFailed(
            "This unsubscribe link has expired. Change your digest settings after logging in."
        ) from exc
    except tokens.TokenInvalid as exc:
        raise ValidationFailed(
            "This unsubscribe link is not valid. It may have been cut short when copied."
        ) from exc
    try:
        user_id = int(data["u"])
        community_ids = tuple(int(c) for c in data["c"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed("This unsubscribe link is not valid.") from exc
    return UnsubscribeRequest(user_id, community_ids)


def unsubscribe_targets(session: Session, request: UnsubscribeRequest) -> list[Community]:
    return list(
        session.scalars(
            select(Community)
            .where(Community.id.in_(request.community_ids))
            .order_by(func.lower(Community.name))
        )
    )


def unsubscribe(session: Session, request: UnsubscribeRequest) -> list[Community]:
    """Turn the digest off for each community in the token; returns those communities."""
    if session.get(User, request.user_id) is None:
        raise ValidationFailed("This unsubscribe link belongs to an account that is gone.")
    communities = unsubscribe_targets(session, request)
    for community in communities:
        set_preference(session, request.user_id, community.id, "off")
    return communities


# --------------------------------------------------------------- content


@dataclass
class CommunityRef:
    id: int
    slug: str
    name: str
    coverage_threshold_pct: int


@dataclass
class NormRef:
    id: int
    community_id: int
    slug: str
    title: str
    summary: str
    status: str
    author_id: int
    current_version_id: int | None
    current_version_number: int
    last_material_version_number: int
    status_changed_at: datetime
    url: str = ""


@dataclass
class VersionChange:
    number: int
    change_summary: str
    is_material: bool
    created_at: datetime


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

    @property
    def norm_ids(self) -> set[int]:
        return {e.norm.id for e in self.entries} | {r.norm.id for r in self.replies}

    @property
    def norm_count(self) -> int:
        return len(self.norm_ids)

    @property
    def is_empty(self) -> bool:
        return not self.entries and not self.replies

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
    noun = "norm needs" if count == 1 else "norms need"
    return f"Your NormHub digest — {count} {noun} you"


@dataclass
class Member:
    id: int
    email: str
    display_name: str


def _excerpt(text: str, limit: int = REPLY_EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class Links:
    """Absolute URLs for emails, built without a request (CLI runs have none)."""

    def __init__(self, app, base_url: str | None = None):
        self.base = (base_url or app.config["BASE_URL"]).rstrip("/")
        self.secret_key = app.config["SECRET_KEY"]
        self._adapter = app.url_map.bind("localhost")

    def path(self, endpoint: str, **values) -> str:
        return self._adapter.build(endpoint, values)

    def url(self, endpoint: str, **values) -> str:
        return self.base + self.path(endpoint, **values)

    def norm(self, community_slug: str, norm_slug: str) -> str:
        return self.url("norms.show", slug=community_slug, norm_ref=norm_slug)

    def unsubscribe(self, user_id: int, community_ids: list[int]) -> str:
        token = make_unsubscribe_token(self.secret_key, user_id, community_ids)
        return self.url("digest.unsubscribe", token=token)


class DigestBuilder:
    """Builds digests for batches of members, with a fixed number of queries per batch.

    ``community_ids`` limits content (and, for the send command, recipients) to
    some communities: ``--community`` and the steward preview use it.

    ``scope`` is the ledger scope the digests are recorded under (see
    ``DigestSend``). The window starts at the end of the member's last sent
    digest of the same scope, or of a full one. A full digest (scope 0) leaves
    out the communities a ``--community`` run of the same period already
    covers for the member, so each community's content goes out once.
    """

    def __init__(
        self,
        session: Session,
        period_kind: str,
        links: Links,
        now: datetime | None = None,
        community_ids: set[int] | None = None,
        scope: int = ALL_COMMUNITIES,
    ):
        self.session = session
        self.scope = scope
        self.kind = check_period(period_kind)
        self.links = links
        self.now = now or utcnow()
        self.key = period_key(self.kind, self.now)
        self.length = period_length(self.kind)
        self.community_ids = community_ids
        self._communities: dict[int, CommunityRef] | None = None
        self._approaching: dict[int, tuple[int, int]] | None = None
        self._approaching_norms: dict[int, Norm] = {}

    # -- run-level facts (computed once, not per batch)

    def communities(self) -> dict[int, CommunityRef]:
        if self._communities is None:
            query = select(
                Community.id, Community.slug, Community.name, Community.coverage_threshold_pct
            )
            if self.community_ids is not None:
                query = query.where(Community.id.in_(self.community_ids))
            self._communities = {
                row.id: CommunityRef(row.id, row.slug, row.name, row.coverage_threshold_pct)
                for row in self.session.execute(query)
            }
        return self._communities

    def approaching(self) -> dict[int, tuple[int, int]]:
        """Open norms close to (not past) the gate: norm id → (community id, coverage %)."""
        if self._approaching is None:
            found = approaching_gate(self.session, self.community_ids)
            self._approaching_norms = {norm.id: norm for norm, _ in found.values()}
            self._approaching = {
                norm_id: (norm.community_id, pct) for norm_id, (norm, pct) in found.items()
            }
        return self._approaching

    # -- per batch

    def matched_communities(self, user_ids: list[int]) -> dict[int, list[int]]:
        """Communities whose digest preference matches this period, per member."""
        result: dict[int, list[int]] = defaultdict(list)
        for user_id, community_id in self.session.execute(
            matching_memberships(self.kind, self.community_ids).where(
                Membership.user_id.in_(user_ids)
            )
        ):
            result[user_id].append(community_id)
        return result

    def last_sent(self, user_ids: list[int]) -> dict[int, datetime]:
        return dict(
            self.session.execute(
                select(DigestSend.user_id, func.max(DigestSend.window_end))
                .where(
                    DigestSend.user_id.in_(user_ids),
                    DigestSend.period_kind == self.kind,
                    DigestSend.status == "sent",
                    DigestSend.scope.in_({ALL_COMMUNITIES, self.scope}),
                )
                .group_by(DigestSend.user_id)
            ).all()
        )

    def covered(self, user_ids: list[int]) -> dict[int, set[int]]:
        """Communities a ``--community`` run of this period covers, per member."""
        result: dict[int, set[int]] = defaultdict(set)
        if self.scope != ALL_COMMUNITIES:
            return result
        for user_id, community_id in self.session.execute(
            select(DigestSend.user_id, DigestSend.scope).where(
                DigestSend.user_id.in_(user_ids),
                DigestSend.period_kind == self.kind,
                DigestSend.period_key == self.key,
                DigestSend.scope != ALL_COMMUNITIES,
                DigestSend.status.in_(COVERING_STATUSES),
            )
        ):
            result[user_id].add(community_id)
        return result

    def build(self, members: list[Member]) -> dict[int, Digest]:
        """Each member's digest (empty ones included; callers skip those)."""
        if not members:
            return {}
        user_ids = [m.id for m in members]
        communities = self.communities()
        memberships = self.matched_communities(user_ids)
        for user_id, done in self.covered(user_ids).items():
            memberships[user_id] = [c for c in memberships.get(user_id, ()) if c not in done]
        last_sent = self.last_sent(user_ids)
        earliest = self.now - self.length * MAX_LOOKBACK_PERIODS
        since: dict[int, datetime] = {}
        for user_id in user_ids:
            previous = last_sent.get(user_id)
            since[user_id] = (
                max(previous, earliest) if previous is not None else self.now - self.length
            )
        batch_communities = {c for ids in memberships.values() for c in ids if c in communities}
        if not batch_communities:
            return {m.id: self._empty(m, since[m.id]) for m in members}
        min_since = min(since.values())
        norms: dict[int, NormRef] = {}

        def remember(row) -> NormRef:
            ref = norms.get(row.id)
            if ref is None:
                community = communities[row.community_id]
                ref = NormRef(
                    row.id,
                    row.community_id,
                    row.slug,
                    row.title,
                    row.summary,
                    row.status,
                    row.author_id,
                    row.current_version_id,
                    row.current_version_number,
                    row.last_material_version_number,
                    row.status_changed_at,
                    self.links.norm(community.slug, row.slug),
                )
                norms[row.id] = ref
            return ref

        norm_columns = (
            Norm.id,
            Norm.community_id,
            Norm.slug,
            Norm.title,
            Norm.summary,
            Norm.status,
            Norm.author_id,
            Norm.current_version_id,
            Norm.current_version_number,
            Norm.last_material_version_number,
            Norm.status_changed_at,
        )
        in_batch = Norm.community_id.in_(batch_communities)

        # 1. norms that opened or came into force in the window
        changed = [
            remember(row)
            for row in self.session.execute(
                select(*norm_columns).where(
                    in_batch,
                    Norm.status.in_(("open", "in_force")),
                    Norm.status_changed_at >= min_since,
                )
            )
        ]

        # 2. each member's latest response per norm, where a material revision followed
        latest = (
            select(func.max(Response.id))
            .where(Response.user_id.in_(user_ids))
            .group_by(Response.user_id, Response.norm_id)
        )
        responded = aliased(NormVersion)
        stale_rows = self.session.execute(
            select(Response.user_id, responded.number.label("responded_number"), *norm_columns)
            .join(responded, responded.id == Response.version_id)
            .join(Norm, Norm.id == Response.norm_id)
            .where(
                Response.id.in_(latest),
                in_batch,
                Norm.status.in_(("open", "in_force")),
                Norm.last_material_version_number > responded.number,
            )
        ).all()
        stale: dict[int, list[tuple[NormRef, int]]] = defaultdict(list)
        for row in stale_rows:
            stale[row.user_id].append((remember(row), row.responded_number))

        # 3. the versions after those responses: what changed
        changes: dict[int, list[VersionChange]] = defaultdict(list)
        stale_norm_ids = {ref.id for items in stale.values() for ref, _ in items}
        if stale_norm_ids:
            for row in self.session.execute(
                select(
                    NormVersion.norm_id,
                    NormVersion.number,
                    NormVersion.change_summary,
                    NormVersion.is_material,
                    NormVersion.created_at,
                )
                .where(NormVersion.norm_id.in_(stale_norm_ids), NormVersion.number > 1)
                .order_by(NormVersion.norm_id, NormVersion.number)
            ):
                changes[row.norm_id].append(
                    VersionChange(row.number, row.change_summary, row.is_material, row.created_at)
                )

        # 4. how far each member got with the norms close to the gate
        approaching = {
            norm_id: pct
            for norm_id, (community_id, pct) in self.approaching().items()
            if community_id in batch_communities
        }
        exposure_level: dict[tuple[int, int], tuple[int, int]] = {}
        if approaching:
            for row in self.session.execute(
                select(
                    ExposureSummary.user_id,
                    ExposureSummary.norm_id,
                    ExposureSummary.material_base,
                    ExposureSummary.level,
                ).where(
                    ExposureSummary.user_id.in_(user_ids),
                    ExposureSummary.norm_id.in_(approaching),
                )
            ):
                exposure_level[(row.user_id, row.norm_id)] = (row.material_base, row.level)
            for norm_id in approaching:
                remember(self._approaching_norms[norm_id])

        # 5. replies by others to the members' comments
        parent = aliased(Comment)
        reply_rows = self.session.execute(
            select(
                Comment.id,
                Comment.body,
                Comment.created_at,
                parent.author_id.label("recipient_id"),
                # A per-row lookup by primary key: joining users instead made
                # PostgreSQL hash the whole users table for every batch.
                select(User.display_name)
                .where(User.id == Comment.author_id)
                .scalar_subquery()
                .label("author_name"),
                *norm_columns,
            )
            .join(parent, parent.id == Comment.parent_id)
            .join(Norm, Norm.id == Comment.norm_id)
            .where(
                parent.author_id.in_(user_ids),
                Comment.author_id != parent.author_id,
                Comment.hidden_at.is_(None),
                Comment.created_at >= min_since,
                Comment.created_at < self.now,
                in_batch,
            )
            .order_by(Comment.created_at, Comment.id)
        ).all()

        # 6. nudges stewards queued (the exposure service loads them for the whole batch)
        nudges_by_user: dict[int, list] = defaultdict(list)
        for nudge in pending_nudges(self.session, user_ids):
            if nudge.norm.community_id in batch_communities:
                nudges_by_user[nudge.member_id].append(nudge)

        # -- group per member in Python
        digests: dict[int, Digest] = {}
        replies_by_user: dict[int, list] = defaultdict(list)
        for row in reply_rows:
            replies_by_user[row.recipient_id].append(row)

        for member in members:
            start = since[member.id]
            mine = set(memberships.get(member.id, ())) & batch_communities
            entries: dict[int, Entry] = {}
            news = False

            def entry(ref: NormRef, entries=entries) -> Entry:
                found = entries.get(ref.id)
                if found is None:
                    found = entries[ref.id] = Entry(ref, communities[ref.community_id])
                return found

            def add_reason(found: Entry, reason: str) -> None:
                if reason not in found.reasons:
                    found.reasons.append(reason)

            nudge_ids = []
            for nudge in nudges_by_user.get(member.id, ()):
                if nudge.norm.community_id not in mine:
                    continue
                found = entry(remember(nudge.norm))
                add_reason(found, "nudged")
                if nudge.created_by.display_name not in found.nudged_by:
                    found.nudged_by.append(nudge.created_by.display_name)
                nudge_ids.append(nudge.id)
                news = True

            for ref, responded_number in stale.get(member.id, ()):
                if ref.community_id not in mine:
                    continue
                later = [c for c in changes.get(ref.id, ()) if c.number > responded_number]
                if not any(c.is_material and start <= c.created_at < self.now for c in later):
                    continue  # already reported in an earlier digest
                found = entry(ref)
                add_reason(found, "revised")
                found.responded_version = responded_number
                found.changes = later[-CHANGES_SHOWN:]
                news = True

            for norm_id, pct in approaching.items():
                ref = norms[norm_id]
                if ref.community_id not in mine:
                    continue
                base, level = exposure_level.get((member.id, norm_id), (0, 0))
                on_current = base == ref.last_material_version_number
                if on_current and level >= EXPOSED:
                    continue
                found = entry(ref)
                add_reason(found, "approaching")
                found.coverage_pct = pct
                # Already delivered (or opened) this version: a reminder, not news.
                if not (on_current and level >= DELIVERED):
                    news = True

            for ref in changed:
                if ref.community_id not in mine or not (start <= ref.status_changed_at < self.now):
                    continue
                if ref.status == "open" and ref.author_id == member.id:
                    continue
                add_reason(entry(ref), "opened" if ref.status == "open" else "in_force")
                news = True

            replies = []
            for row in replies_by_user.get(member.id, ()):
                if row.community_id not in mine or row.created_at < start:
                    continue
                ref = remember(row)
                replies.append(
                    Reply(
                        row.id,
                        ref,
                        communities[ref.community_id],
                        row.author_name,
                        _excerpt(row.body),
                        row.created_at,
                        f"{ref.url}#comment-{row.id}",
                    )
                )
                news = True

            ordered = sorted(
                entries.values(),
                key=lambda e: (SECTIONS.index(e.section), e.community.name.lower(), e.norm.title),
            )
            digests[member.id] = Digest(
                user_id=member.id,
                email=member.email,
                display_name=member.display_name,
                period_kind=self.kind,
                period_key=self.key,
                window_start=start,
                window_end=self.now,
                entries=ordered,
                replies=replies,
                nudge_ids=nudge_ids,
                has_news=news,
                community_ids=sorted(mine),
                scope=self.scope,
            )
        return digests

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
        shown = sorted(
            {e.community.id for e in digest.entries} | {r.community.id for r in digest.replies},
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
        return digest


def matching_memberships(kind: str, community_ids: set[int] | None = None):
    """SELECT (user id, community id) of active memberships whose digest is ``kind``."""
    frequency = func.coalesce(DigestPreference.frequency, DEFAULT_FREQUENCY)
    query = (
        select(Membership.user_id, Membership.community_id)
        .outerjoin(
            DigestPreference,
            and_(
                DigestPreference.user_id == Membership.user_id,
                DigestPreference.community_id == Membership.community_id,
            ),
        )
        .where(Membership.left_at.is_(None), frequency == kind)
    )
    if community_ids is not None:
        query = query.where(Membership.community_id.in_(community_ids))
    return query


def approaching_gate(
    session: Session, community_ids: set[int] | None = None
) -> dict[int, tuple[Norm, int]]:
    """Open norms close to the in-force gate: norm id → (norm, understood %).

    "Close" means the gate is not met yet (members or responses short) but the
    share of members who understood the current version is within
    ``APPROACHING_MARGIN_PCT`` points of the community's threshold. Coverage
    comes from the exposure service, a fixed number of queries for all of them.
    """
    query = select(Norm).where(Norm.status == "open").options(selectinload(Norm.community))
    if community_ids is not None:
        query = query.where(Norm.community_id.in_(community_ids))
    norms = list(session.scalars(query))
    result = {}
    for norm_id, item in coverage_for_norms(session, norms).items():
        if item.meets_threshold or not item.active_members:
            continue
        if item.understood_pct >= item.threshold_pct - APPROACHING_MARGIN_PCT:
            result[norm_id] = (item.norm, item.understood_pct)
    return result


def preview_digest(
    session: Session,
    links: Links,
    member: User,
    period_kind: str,
    community_ids: set[int] | None = None,
    now: datetime | None = None,
) -> Digest:
    """What ``member``'s next digest of ``period_kind`` would hold now; records nothing."""
    builder = DigestBuilder(session, period_kind, links, now=now, community_ids=community_ids)
    digest = builder.build([Member(member.id, member.email, member.display_name)])[member.id]
    return builder.finish(digest)


def default_period(session: Session, user: User) -> str:
    """The period a member's preview shows: weekly, unless all their digests are daily."""
    frequencies = {row.frequency for row in list_preferences(session, user)}
    return "daily" if frequencies == {"daily"} else "weekly"
