"""When norms are reviewed: the periods, each norm's next review date, opening rounds.

A norm coming into force gets its review date (now plus its period); a norm
leaving force loses it, and a round still open is closed without an outcome.
The periodic job ``reviews.open-due`` opens the rounds that are due and asks
the members who had responded to the norm (``events.Review.Opened``: the
notifications feature tells them, the digest lists the round until they answer).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from huey import crontab
from sqlalchemy import select
from sqlalchemy.orm import Session

from normhub import events, policy
from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.communities.services import active_membership
from normhub.db import utcnow
from normhub.errors import Forbidden, ValidationFailed
from normhub.jobs.queue import periodic_job
from normhub.norms.models import Norm
from normhub.responses.models import Response
from normhub.reviews.models import (
    DEFAULT_PERIOD_DAYS,
    PERIOD_MAX_DAYS,
    PERIOD_MIN_DAYS,
    CommunityReviewSetting,
    NormReview,
    NormReviewSchedule,
)

PERIOD_PROBLEM = (
    f"A review period is a whole number of days from {PERIOD_MIN_DAYS} to {PERIOD_MAX_DAYS}."
)
# How many due rounds one run of the job opens: the rest wait for the next run.
OPEN_BATCH = 200


def check_period(days: int | None) -> int:
    if not isinstance(days, int) or not PERIOD_MIN_DAYS <= days <= PERIOD_MAX_DAYS:
        raise ValidationFailed(PERIOD_PROBLEM, field="period_days")
    return days


def community_period(session: Session, community: Community) -> int:
    setting = session.get(CommunityReviewSetting, community.id)
    return setting.period_days if setting is not None else DEFAULT_PERIOD_DAYS


def can_manage(session: Session, community: Community, user: User | None) -> bool:
    return policy.allows("community.manage", active_membership(session, community, user), user)


def set_community_period(session: Session, community: Community, actor: User, days: int) -> None:
    if not can_manage(session, community, actor):
        raise Forbidden("Only stewards set how often norms are reviewed.")
    setting = session.get(CommunityReviewSetting, community.id)
    if setting is None:
        setting = CommunityReviewSetting(community_id=community.id)
        session.add(setting)
    setting.period_days = check_period(days)
    session.flush()


def schedule_of(session: Session, norm: Norm) -> NormReviewSchedule | None:
    return session.get(NormReviewSchedule, norm.id)


def period_for(session: Session, norm: Norm, schedule: NormReviewSchedule | None = None) -> int:
    """The norm's own period if a steward set one, else its community's."""
    schedule = schedule or schedule_of(session, norm)
    if schedule is not None and schedule.period_days is not None:
        return schedule.period_days
    return community_period(session, norm.community)


def can_schedule(session: Session, norm: Norm, user: User | None) -> bool:
    membership = active_membership(session, norm.community, user)
    return policy.allows("review.schedule", membership, user)


def _ensure_schedule(session: Session, norm: Norm) -> NormReviewSchedule:
    schedule = schedule_of(session, norm)
    if schedule is None:
        schedule = NormReviewSchedule(norm_id=norm.id)
        session.add(schedule)
    return schedule


def open_round(session: Session, norm: Norm) -> NormReview | None:
    return session.scalar(
        select(NormReview).where(NormReview.norm_id == norm.id, NormReview.closed_at.is_(None))
    )


def schedule_next(session: Session, norm: Norm, start: datetime | None = None) -> datetime:
    """Set the norm's next review one period after ``start`` (now)."""
    schedule = _ensure_schedule(session, norm)
    schedule.next_review_at = (start or utcnow()) + timedelta(
        days=period_for(session, norm, schedule)
    )
    session.flush()
    return schedule.next_review_at


def set_norm_period(session: Session, norm: Norm, actor: User, days: int | None) -> None:
    """A steward's period for this norm (None: back to the community's). A review date
    already set becomes one new period from now: the steward sees the date they chose."""
    if not can_schedule(session, norm, actor):
        raise Forbidden("Only stewards set when a norm is reviewed.")
    schedule = _ensure_schedule(session, norm)
    schedule.period_days = None if days is None else check_period(days)
    if schedule.next_review_at is not None:
        schedule.next_review_at = utcnow() + timedelta(days=period_for(session, norm, schedule))
    session.flush()


def status_changed(session: Session, *, norm, old_status, new_status, actor) -> None:
    """In force: the review date is set; out of force: no more reviews."""
    if new_status == "in_force" and old_status != "in_force":
        schedule_next(session, norm)
    elif new_status in ("retired", "withdrawn"):
        schedule = schedule_of(session, norm)
        if schedule is not None:
            schedule.next_review_at = None
        still_open = open_round(session, norm)
        if still_open is not None:
            still_open.closed_at = utcnow()
        session.flush()


def responder_ids(session: Session, norm: Norm) -> list[int]:
    """The active members who responded to the norm: those a review asks."""
    return list(
        session.scalars(
            select(Response.user_id)
            .join(
                Membership,
                (Membership.user_id == Response.user_id)
                & (Membership.community_id == norm.community_id),
            )
            .where(Response.norm_id == norm.id, Membership.left_at.is_(None))
            .distinct()
            .order_by(Response.user_id)
        )
    )


def open_review(session: Session, norm: Norm, due_at: datetime | None = None) -> NormReview:
    """Open a round of review of ``norm`` now and ask its responders."""
    now = utcnow()
    review = NormReview(
        norm_id=norm.id,
        version_number=norm.in_force_version_number or norm.current_version_number,
        opened_at=now,
        due_at=due_at or now,
        decision_note="",
    )
    review.norm = norm
    session.add(review)
    schedule = _ensure_schedule(session, norm)
    schedule.next_review_at = None
    session.flush()
    events.publish(
        session, events.Review.Opened, review=review, norm=norm, asked=responder_ids(session, norm)
    )
    return review


def open_due_reviews(session: Session, now: datetime | None = None) -> list[NormReview]:
    """Open a round for each norm in force whose review date has come."""
    now = now or utcnow()
    due = session.execute(
        select(Norm, NormReviewSchedule.next_review_at)
        .join(NormReviewSchedule, NormReviewSchedule.norm_id == Norm.id)
        .where(NormReviewSchedule.next_review_at <= now, Norm.status == "in_force")
        .order_by(NormReviewSchedule.next_review_at, Norm.id)
        .limit(OPEN_BATCH)
    ).all()
    opened = []
    for norm, due_at in due:
        if open_round(session, norm) is None:
            opened.append(open_review(session, norm, due_at))
        else:  # a round is open already: the date comes back when it is decided
            schedule_of(session, norm).next_review_at = None
    session.flush()
    return opened


@periodic_job("reviews.open-due", crontab(minute="*/5"))
def open_due(session: Session) -> None:
    open_due_reviews(session)
