"""A community's record: the norms that held up, those retired and why, the assumptions that
failed most often, and how often a reminder came after a check that found the person exposed.

Plain query functions taking the session first; each part is one grouped query, so the
page costs the same number of statements however long the community's history.
Aggregates only: nothing here names who reminded whom.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from normhub.communities.models import Community
from normhub.exposure.models import Reminder
from normhub.exposure.reminders import RATE_AS_PERCENT_FROM, REMINDER, SHARE
from normhub.norms.models import Assumption, Norm, NormVersion, StatusChange
from normhub.reviews.models import NormReview, ReviewAssumptionResult

# Enough to read on one page; the counts above each list say how many there are in all.
LIST_LIMIT = 50
FAILED_ASSUMPTIONS_SHOWN = 10
MONTHS_SHOWN = 36


def latest_decided_reviews():
    """A subquery: each norm's newest decided review round (norm_id, review_id)."""
    return (
        select(NormReview.norm_id, func.max(NormReview.id).label("review_id"))
        .where(NormReview.closed_at.is_not(None))
        .group_by(NormReview.norm_id)
        .subquery("latest_decided")
    )


@dataclass(frozen=True)
class Share:
    """``part`` of ``whole``, said as numbers first; a percentage only when the whole is large
    enough for one to mean something."""

    part: int
    whole: int

    @property
    def percent(self) -> int | None:
        if self.whole < RATE_AS_PERCENT_FROM:
            return None
        return round(100 * self.part / self.whole)

    @property
    def bar_percent(self) -> int:
        return round(100 * self.part / self.whole) if self.whole else 0

    def to_dict(self) -> dict:
        return {"count": self.part, "of": self.whole, "percent": self.percent}


@dataclass(frozen=True)
class ClearWin:
    norm: Norm
    kept_at: datetime
    reviews: int  # decided rounds in all


@dataclass(frozen=True)
class RetiredNorm:
    norm: Norm
    retired_at: datetime
    reason: str  # the note of the retirement, or of the review that decided it; "" if none
    by_review: bool


@dataclass(frozen=True)
class FailedAssumption:
    assumption: Assumption
    norm: Norm
    version_number: int
    rounds_failed: int  # decided rounds whose answers mostly said it failed
    rounds: int  # decided rounds with any answer about it
    failed_answers: int
    answers: int

    @property
    def rounds_share(self) -> Share:
        return Share(self.rounds_failed, self.rounds)

    @property
    def answers_share(self) -> Share:
        return Share(self.failed_answers, self.answers)


@dataclass(frozen=True)
class ReminderMonth:
    """One month of reminders: how many came after a check that found the person exposed."""

    year: int
    month: int
    reminders: int
    after_exposed_check: int
    shares: int

    @property
    def label(self) -> str:
        return datetime(self.year, self.month, 1).strftime("%B %Y")

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def checked(self) -> Share:
        return Share(self.after_exposed_check, self.reminders)


@dataclass
class CommunityRecord:
    community: Community
    in_force: int
    clear_wins: list[ClearWin]
    clear_win_count: int
    retired: list[RetiredNorm]
    retired_count: int
    failed_assumptions: list[FailedAssumption]
    months: list[ReminderMonth]

    @property
    def reminders(self) -> int:
        return sum(m.reminders for m in self.months)

    @property
    def checked(self) -> Share:
        return Share(sum(m.after_exposed_check for m in self.months), self.reminders)

    @property
    def shares(self) -> int:
        return sum(m.shares for m in self.months)


def norm_counts(session: Session, community: Community) -> tuple[int, int, int]:
    """(in force, clear wins, retired) of ``community``, in one query."""
    latest = latest_decided_reviews()
    in_force = Norm.status == "in_force"
    row = session.execute(
        select(
            func.count(case((in_force, 1))),
            func.count(case((and_(in_force, NormReview.outcome == "kept"), 1))),
            func.count(case((Norm.status == "retired", 1))),
        )
        .select_from(Norm)
        .outerjoin(latest, latest.c.norm_id == Norm.id)
        .outerjoin(NormReview, NormReview.id == latest.c.review_id)
        .where(Norm.community_id == community.id)
    ).one()
    return row[0], row[1], row[2]


def clear_wins(session: Session, community: Community, limit=LIST_LIMIT) -> list[ClearWin]:
    """Norms in force whose latest decided review kept them, most recently kept first."""
    latest = latest_decided_reviews()
    rounds = (
        select(func.count(NormReview.id))
        .where(NormReview.norm_id == Norm.id, NormReview.closed_at.is_not(None))
        .correlate(Norm)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Norm, NormReview.closed_at, rounds)
        .join(latest, latest.c.norm_id == Norm.id)
        .join(NormReview, NormReview.id == latest.c.review_id)
        .where(
            Norm.community_id == community.id,
            Norm.status == "in_force",
            NormReview.outcome == "kept",
        )
        .order_by(NormReview.closed_at.desc(), Norm.id.desc())
        .limit(limit)
    ).all()
    return [ClearWin(norm, kept_at, count) for norm, kept_at, count in rows]


def retired_norms(session: Session, community: Community, limit=LIST_LIMIT) -> list[RetiredNorm]:
    """Retired norms, most recently retired first, each with the reason given.

    The reason is the note on the retirement itself; failing that, the decision note of the
    review that decided to retire it.
    """
    retirement = (
        select(StatusChange.norm_id, func.max(StatusChange.id).label("change_id"))
        .where(StatusChange.to_status == "retired")
        .group_by(StatusChange.norm_id)
        .subquery("retirement")
    )
    latest = latest_decided_reviews()
    rows = session.execute(
        select(Norm, StatusChange.changed_at, StatusChange.note, NormReview.outcome)
        .add_columns(NormReview.decision_note)
        .outerjoin(retirement, retirement.c.norm_id == Norm.id)
        .outerjoin(StatusChange, StatusChange.id == retirement.c.change_id)
        .outerjoin(latest, latest.c.norm_id == Norm.id)
        .outerjoin(NormReview, NormReview.id == latest.c.review_id)
        .where(Norm.community_id == community.id, Norm.status == "retired")
        .order_by(Norm.status_changed_at.desc(), Norm.id.desc())
        .limit(limit)
    ).all()
    retired = []
    for norm, changed_at, note, outcome, decision_note in rows:
        by_review = outcome == "retire"
        reason = (note or "").strip() or ((decision_note or "").strip() if by_review else "")
        retired.append(RetiredNorm(norm, changed_at or norm.status_changed_at, reason, by_review))
    return retired


def failed_assumptions(
    session: Session, community: Community, limit=FAILED_ASSUMPTIONS_SHOWN
) -> list[FailedAssumption]:
    """The assumptions that decided reviews most often found failed, as the deciders saw them.

    A round's verdict on an assumption is the plurality of its answers (``verdict_of``:
    failed only when more said failed than held and than unclear). Only assumptions
    found failed at least once are listed: most rounds failed first, then most answers.
    """
    result = ReviewAssumptionResult
    failed_verdict = and_(result.failed > result.held, result.failed > result.unclear)
    rounds_failed = func.count(case((failed_verdict, 1)))
    failed_answers = func.sum(result.failed)
    answered = result.held + result.failed + result.unclear
    rows = session.execute(
        select(
            Assumption,
            Norm,
            NormVersion.number,
            rounds_failed,
            # Rounds where anyone said anything about it: a round nobody answered asked nothing.
            func.count(case((answered > 0, 1))),
            failed_answers,
            func.sum(answered),
        )
        .select_from(result)
        .join(NormReview, NormReview.id == result.review_id)
        .join(Assumption, Assumption.id == result.assumption_id)
        .join(NormVersion, NormVersion.id == Assumption.version_id)
        .join(Norm, Norm.id == NormVersion.norm_id)
        .where(Norm.community_id == community.id, NormReview.closed_at.is_not(None))
        .group_by(Assumption.id, Norm.id, NormVersion.number)
        .having(rounds_failed > 0)
        .order_by(rounds_failed.desc(), failed_answers.desc(), Assumption.id)
        .limit(limit)
    ).all()
    return [
        FailedAssumption(a, n, number, int(rf), int(r), int(fa or 0), int(t or 0))
        for a, n, number, rf, r, fa, t in rows
    ]


def reminder_months(
    session: Session, community: Community, months=MONTHS_SHOWN
) -> list[ReminderMonth]:
    """Reminders and shares by calendar month (UTC), newest first: only months that had any."""
    year = func.extract("year", Reminder.created_at)
    month = func.extract("month", Reminder.created_at)
    is_reminder = Reminder.kind == REMINDER
    rows = session.execute(
        select(
            year,
            month,
            func.count(case((is_reminder, 1))),
            func.count(case((and_(is_reminder, Reminder.checked_found_exposed), 1))),
            func.count(case((Reminder.kind == SHARE, 1))),
        )
        .where(Reminder.community_id == community.id)
        .group_by(year, month)
        .order_by(year.desc(), month.desc())
        .limit(months)
    ).all()
    return [ReminderMonth(int(y), int(m), r, a, s) for y, m, r, a, s in rows]


def community_record(session: Session, community: Community) -> CommunityRecord:
    """Everything the record page shows, in five queries whatever the community's size."""
    in_force, clear_win_count, retired_count = norm_counts(session, community)
    return CommunityRecord(
        community=community,
        in_force=in_force,
        clear_wins=clear_wins(session, community),
        clear_win_count=clear_win_count,
        retired=retired_norms(session, community),
        retired_count=retired_count,
        failed_assumptions=failed_assumptions(session, community),
        months=reminder_months(session, community),
    )
