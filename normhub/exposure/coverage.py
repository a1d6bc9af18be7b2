"""Coverage: how far a community has come with the current version of a norm.

Counted from the summary rows in a fixed number of GROUP BY queries, whatever
the number of members, so pages and digests can show it for many norms at once.

The not-yet-exposed list (for stewards, and whom a nudge goes to) leaves out
the norm's author and the steward asking: nobody is reminded of their own
norm, or reminds themselves. How many on it a reminder cannot reach by email
is answered by a counter another feature registers
(:func:`register_unreachable_counter`): the digest delivers nudges, and sits
above this package, so it says which members it does not reach.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.db import utcnow
from normhub.exposure.ageing import months_between, period_of, period_sql, stale_by_age_sql
from normhub.exposure.levels import EXPOSED, NONE, UNDERSTOOD, norm_ref
from normhub.exposure.models import LEVELS, CoverageTally, ExposureSummary
from normhub.exposure.report import months_words
from normhub.exposure.standing import not_exposed, reading_state
from normhub.exposure.tallies import tallied_levels
from normhub.norms.models import Norm


def percent_of(count: int, active_members: int) -> int:
    """A count as a whole percentage of the active members (rounded down; 0 of none)."""
    return count * 100 // active_members if active_members else 0


def members_needed(threshold_pct: int, active_members: int) -> int:
    """Members who must have understood for the gate: the threshold's share, rounded up."""
    return -(-threshold_pct * active_members // 100)


def gate_gap(
    active_members: int, understood: int, responses: int, threshold_pct: int, min_responses: int
) -> int:
    """How many more people must act before the in-force gate opens: more members who
    understood, or more responses, whichever is further."""
    needed = members_needed(threshold_pct, active_members)
    return max(0, needed - understood, min_responses - responses)


@dataclass
class Coverage:
    """How far the community has come with the *current* version of a norm.

    Counting rule: each active member counts once, at the level they reached
    on the current material family (see the module docstring). A member whose
    exposure is on an older material version counts as "none" for the current
    version, and is also counted in ``stale`` so the page can say how many
    have seen an older text. "Understood" means understood or endorsed.
    """

    norm: Norm
    active_members: int
    levels: dict[str, int]
    stale: int
    responses: int
    threshold_pct: int
    min_responses: int
    # Exposure that ages: the period asked for, and how many at read or better on the
    # current text read it longer ago than that (counted in ``levels`` too).
    reread_months: int | None = None
    reread_due: int = 0

    @property
    def understood(self) -> int:
        return self.levels["understood"] + self.levels["endorsed"]

    @property
    def exposed(self) -> int:
        return sum(self.levels[name] for name in LEVELS[EXPOSED:])

    @property
    def understood_pct(self) -> int:
        return percent_of(self.understood, self.active_members)

    @property
    def members_needed(self) -> int:
        return members_needed(self.threshold_pct, self.active_members)

    @property
    def more_members_needed(self) -> int:
        return max(0, self.members_needed - self.understood)

    @property
    def more_responses_needed(self) -> int:
        return max(0, self.min_responses - self.responses)

    @property
    def gap(self) -> int:
        """How many more people must act before the gate opens."""
        return gate_gap(
            self.active_members,
            self.understood,
            self.responses,
            self.threshold_pct,
            self.min_responses,
        )

    @property
    def meets_threshold(self) -> bool:
        return (
            self.active_members > 0
            and self.more_members_needed == 0
            and self.more_responses_needed == 0
        )

    def share(self, level: str) -> int:
        return percent_of(self.levels[level], self.active_members)

    @property
    def shortfall_message(self) -> str:
        more = self.more_members_needed
        members = (
            f"{self.understood_pct}% of members understood the current version; "
            f"{self.threshold_pct}% needed"
        )
        if more:
            members += f" ({more} more member{'s' if more != 1 else ''})"
        responses = f"{self.responses} response{'s' if self.responses != 1 else ''}"
        return f"{members}. {responses}; {self.min_responses} needed."

    def to_dict(self) -> dict:
        return {
            "norm": norm_ref(self.norm),
            "current_version": self.norm.current_version_number,
            "active_members": self.active_members,
            "levels": dict(self.levels),
            "stale": self.stale,
            "understood": self.understood,
            "understood_pct": self.understood_pct,
            "responses": self.responses,
            "threshold_pct": self.threshold_pct,
            "min_responses": self.min_responses,
            "more_members_needed": self.more_members_needed,
            "more_responses_needed": self.more_responses_needed,
            "meets_threshold": self.meets_threshold,
            "shortfall_message": self.shortfall_message,
            "reread_months": self.reread_months,
            "reread_due": self.reread_due,
        }


def coverage_for_norms(session: Session, norms: list[Norm]) -> dict[int, Coverage]:
    """Coverage of several norms in a few queries, whatever the number of members.

    The levels come from the tallies the database keeps per norm
    (:mod:`normhub.exposure.tallies`): a few rows per norm, where counting the
    summary rows read one per exposed member and norm.
    """
    if not norms:
        return {}
    ids = [n.id for n in norms]
    # One statement, two kinds of row: active members per community, then the
    # tallies (see tallied_levels) behind a marker of -1.
    active_members = (
        select(
            literal(-1).label("kind"),
            Membership.community_id,
            literal(0).label("base"),
            literal(0).label("responded"),
            func.count(),
        )
        .where(
            Membership.community_id.in_({n.community_id for n in norms}),
            Membership.left_at.is_(None),
        )
        .group_by(Membership.community_id)
    )
    rows = session.execute(union_all(active_members, tallied_levels(ids))).all()
    active = {key: count for kind, key, _, _, count in rows if kind == -1}
    tallies = [row for row in rows if row[0] != -1]
    result = {}
    for norm in norms:
        community = norm.community
        members = active.get(norm.community_id, 0)
        result[norm.id] = Coverage(
            norm=norm,
            active_members=members,
            levels={**dict.fromkeys(LEVELS, 0), LEVELS[NONE]: members},
            stale=0,
            responses=0,
            threshold_pct=community.coverage_threshold_pct,
            min_responses=community.coverage_min_responses,
        )
    for norm_id, base, level, responded, count in tallies:
        item = result[norm_id]
        if base < item.norm.last_material_version_number:
            item.stale += count  # reached on an older text: at "none" on this one
            continue
        # Moved out of "none", where every active member started.
        item.levels[LEVELS[NONE]] -= count
        item.levels[LEVELS[level]] += count
        # Responded to a version of the current text (the newest material one or later).
        item.responses += count if responded else 0
    _count_reread_due(session, result)
    return result


class GateCount(NamedTuple):
    """How far a norm is from the in-force gate, as ``Coverage`` counts it, without the
    breakdown by level (a tuple: lists make hundreds)."""

    active_members: int
    understood: int
    responses: int
    threshold_pct: int
    min_responses: int

    @property
    def understood_pct(self) -> int:
        return percent_of(self.understood, self.active_members)

    @property
    def gap(self) -> int:
        return gate_gap(
            self.active_members,
            self.understood,
            self.responses,
            self.threshold_pct,
            self.min_responses,
        )


def gate_counts(session: Session, norms: ColumnElement[bool]) -> dict[int, GateCount]:
    """What ``Coverage`` says of the gate for each norm matching ``norms`` (a condition on
    ``Norm``), by id, in one statement that sums the tallies in SQL: for lists that order
    many norms by their gap and show few (the reading queue, the home page's norms
    closest to the gate)."""
    current = CoverageTally.material_base >= Norm.last_material_version_number
    understood = case(
        (and_(current, CoverageTally.level >= UNDERSTOOD), CoverageTally.members), else_=0
    )
    responded = case((and_(current, CoverageTally.responded != 0), CoverageTally.members), else_=0)
    settings = (Community.coverage_threshold_pct, Community.coverage_min_responses)
    counted = (
        select(
            literal(1),
            Norm.id,
            Norm.community_id,
            *settings,
            func.coalesce(func.sum(understood), 0),
            func.coalesce(func.sum(responded), 0),
        )
        .join(Community, Community.id == Norm.community_id)
        .outerjoin(CoverageTally, CoverageTally.norm_id == Norm.id)
        .where(norms)
        # By the two keys alone (the other columns follow from them): sorting a thousand
        # norms' tallies by four columns took SQLite twice as long.
        .group_by(Norm.id, Community.id)
    )
    # Counted per community in a subquery: grouped over all memberships of an IN list,
    # PostgreSQL guessed ten times the rows and started parallel workers (7 ms, not 1).
    member_count = (
        select(func.count())
        .where(Membership.community_id == Community.id, Membership.left_at.is_(None))
        .correlate(Community)
        .scalar_subquery()
    )
    active_members = select(literal(-1), Community.id, member_count, *[literal(0)] * 4).where(
        Community.id.in_(select(Norm.community_id).where(norms))
    )
    # One statement, two kinds of row: active members per community (-1), then per
    # norm (1) how many on its current text understood it and how many responded.
    rows = session.execute(union_all(active_members, counted)).all()
    active = {row[1]: row[2] for row in rows if row[0] == -1}
    return {
        norm_id: GateCount(active.get(community_id, 0), got, answers, threshold, least)
        for kind, norm_id, community_id, threshold, least, got, answers in rows
        if kind == 1
    }


def _count_reread_due(session: Session, result: dict[int, Coverage]) -> None:
    """Fill ``reread_due`` with one grouped query, only for norms that ask for a re-read."""
    for item in result.values():
        item.reread_months = period_of(item.norm)
    asking = [norm_id for norm_id, item in result.items() if item.reread_months]
    if not asking:
        return
    period = period_sql(Norm.reread_months, Community.reread_months)
    rows = session.execute(
        select(ExposureSummary.norm_id, func.count())
        .join(Norm, Norm.id == ExposureSummary.norm_id)
        .join(Community, Community.id == Norm.community_id)
        .join(
            Membership,
            and_(
                Membership.community_id == Norm.community_id,
                Membership.user_id == ExposureSummary.user_id,
                Membership.left_at.is_(None),
            ),
        )
        .where(
            ExposureSummary.norm_id.in_(asking),
            ExposureSummary.material_base >= Norm.last_material_version_number,
            ExposureSummary.level >= EXPOSED,
            stale_by_age_sql(ExposureSummary.level_at, period, utcnow()),
        )
        .group_by(ExposureSummary.norm_id)
    ).all()
    for norm_id, count in rows:
        result[norm_id].reread_due = count


def coverage(session: Session, norm: Norm) -> Coverage:
    return coverage_for_norms(session, [norm])[norm.id]


_STATE_WORDS = {
    "not_opened": "never opened",
    "changed": "read an older text; it has changed materially since",
    "not_read": "{level} version {version}, not read",
    "reread": "read {months} ago; a re-read is asked every {period} months",
}

# (session, community id, SELECT of member ids) -> how many of them no email reaches.
UnreachableCounter = Callable[[Session, int, Select], int]
_unreachable_counter: list[UnreachableCounter] = []


def register_unreachable_counter(counter: UnreachableCounter) -> None:
    """Let ``counter`` say how many members a reminder cannot reach by email.

    The digest registers one in its setup (it delivers nudges). One counter at
    a time: registering again replaces it, so every new app may register.
    """
    _unreachable_counter[:] = [counter]


@dataclass
class NotExposed:
    """Active members not exposed to the current text, as a steward sees them."""

    members: list[tuple[User, str]]  # (member, where they stand), by name, at most the limit
    total: int
    # How many of them no digest reaches (turned off, or their address refuses
    # mail); None when no feature counts it.
    unreachable: int | None


def not_exposed_member_ids(norm: Norm, leaving_out: Iterable[int] = ()) -> Select:
    """SELECT the ids of active members not exposed to ``norm``'s current text.

    Its author is never on it; nor anyone in ``leaving_out`` (the steward
    asking). Whoever wrote a version of the current text is exposed already,
    at endorsed (their "authored" exposure).
    """
    left_out = {norm.author_id, *leaving_out}
    period = period_of(norm)
    return (
        select(Membership.user_id)
        .outerjoin(
            ExposureSummary,
            and_(
                ExposureSummary.user_id == Membership.user_id,
                ExposureSummary.norm_id == norm.id,
            ),
        )
        .where(
            Membership.community_id == norm.community_id,
            Membership.left_at.is_(None),
            Membership.user_id.not_in(left_out),
            not_exposed(norm.last_material_version_number, period),
        )
    )


def unexposed_members(
    session: Session, norm: Norm, limit: int | None = None, *, leaving_out: Iterable[int] = ()
) -> list[tuple[User, str]]:
    """Active members who have not read the current version, with where they stand on it.

    The norm's author and the members in ``leaving_out`` are not on it.
    """
    query = (
        select(User, ExposureSummary)
        .outerjoin(
            ExposureSummary,
            and_(ExposureSummary.user_id == User.id, ExposureSummary.norm_id == norm.id),
        )
        .where(User.id.in_(not_exposed_member_ids(norm, leaving_out)))
        .order_by(func.lower(User.display_name), User.id)
    )
    rows = session.execute(query.limit(limit) if limit is not None else query).all()
    period, now = period_of(norm), utcnow()
    result = []
    for user, summary in rows:
        state = reading_state(summary, norm.last_material_version_number, period, now)
        words = _STATE_WORDS[state]
        if state == "not_read":
            words = words.format(level=summary.level_name, version=summary.level_version)
        elif state == "reread":
            since = months_words(months_between(summary.level_at, now))
            words = words.format(months=since, period=period)
        result.append((user, words))
    return result


def not_exposed_for_steward(
    session: Session, norm: Norm, steward: User, limit: int | None = None
) -> NotExposed:
    """The list a steward sees and nudges: without the author and the steward.

    Three queries whatever the number of members: the list, its total, and the
    registered counter's one grouped count. ``limit=0``: the counts alone.
    """
    ids = not_exposed_member_ids(norm, (steward.id,))
    members = (
        [] if limit == 0 else unexposed_members(session, norm, limit, leaving_out=(steward.id,))
    )
    if limit is not None and len(members) == limit:
        total = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    else:
        total = len(members)  # the whole list
    unreachable = None
    if _unreachable_counter and total:
        unreachable = _unreachable_counter[0](session, norm.community_id, ids)
    elif _unreachable_counter:
        unreachable = 0
    return NotExposed(members, total, unreachable)
