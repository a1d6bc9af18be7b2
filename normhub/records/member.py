"""A member's record: norms proposed, put in force, kept after review; reminders made, and
how many came after a check that found the person exposed; reviews contributed.

Counts and shares only, never a score: each count is a list one can open
(:func:`member_list`).

The same privacy as the rest of a member's page. A norm's author is public wherever
the norm is (its page names them), so norm counts cover the communities the viewer
may see. Reminders and review answers are a member's activity, like their
responses: only fellow active members of each community (and site admins) see them
("member.see-activity"). Nothing of a community the viewer may not see is counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session, selectinload

from normhub.accounts.models import User
from normhub.communities.models import Community
from normhub.communities.services import communities_allowing_clause, visible_communities_clause
from normhub.exposure.models import Reminder
from normhub.exposure.reminders import REMINDER, SHARE
from normhub.norms.models import Norm
from normhub.pagination import Page, paginate
from normhub.records.community import Share, latest_decided_reviews
from normhub.reviews.models import NormReview, ReviewAnswer

ACTIVITY = "member.see-activity"
# The lists a count opens, by the name in their address.
NORM_LISTS = {
    "proposed": "Norms proposed",
    "in-force": "Norms put in force",
    "kept": "Norms kept after review",
}
LISTS = {**NORM_LISTS, "reminders": "Reminders made", "reviews": "Reviews contributed"}


@dataclass
class CommunityCounts:
    """One community's part of a member's record; None: not the viewer's to see."""

    community: Community
    proposed: int = 0
    put_in_force: int = 0
    kept_after_review: int = 0
    reminders: int | None = None
    after_exposed_check: int | None = None
    shares: int | None = None
    reviews: int | None = None

    @property
    def checked(self) -> Share | None:
        if self.reminders is None:
            return None
        return Share(self.after_exposed_check or 0, self.reminders)

    def to_dict(self) -> dict:
        activity = self.reminders is not None
        return {
            "community": {"slug": self.community.slug, "name": self.community.name}
            if self.community is not None
            else None,
            "proposed": self.proposed,
            "put_in_force": self.put_in_force,
            "kept_after_review": self.kept_after_review,
            "reminders": {
                "made": self.reminders,
                "after_exposed_check": self.checked.to_dict(),
                "shares_instead": self.shares,
            }
            if activity
            else None,
            "reviews_contributed": self.reviews,
        }


@dataclass
class MemberRecord:
    member: User
    communities: list[CommunityCounts] = field(default_factory=list)

    def _sum(self, name: str) -> int:
        return sum(getattr(c, name) or 0 for c in self.communities)

    @property
    def totals(self) -> CommunityCounts:
        """The sums, over the communities listed (a community-less row)."""
        seen_activity = any(c.reminders is not None for c in self.communities)
        return CommunityCounts(
            community=None,
            proposed=self._sum("proposed"),
            put_in_force=self._sum("put_in_force"),
            kept_after_review=self._sum("kept_after_review"),
            reminders=self._sum("reminders") if seen_activity else None,
            after_exposed_check=self._sum("after_exposed_check") if seen_activity else None,
            shares=self._sum("shares") if seen_activity else None,
            reviews=self._sum("reviews") if seen_activity else None,
        )

    @property
    def is_empty(self) -> bool:
        totals = self.totals
        return not (totals.proposed or totals.reminders or totals.shares or totals.reviews)

    def to_dict(self) -> dict:
        totals = self.totals.to_dict()
        del totals["community"]
        return {
            "member": {"handle": self.member.handle, "display_name": self.member.display_name},
            "communities": [c.to_dict() for c in self.communities],
            "totals": totals,
        }


def _kept_clause(latest):
    """In force, and the latest decided review kept it (as the community's clear wins)."""
    return and_(
        latest.c.review_id.is_not(None), NormReview.outcome == "kept", Norm.status == "in_force"
    )


def _norm_counts(session: Session, member: User, viewer: User | None) -> dict[int, tuple]:
    latest = latest_decided_reviews()
    rows = session.execute(
        select(
            Norm.community_id,
            func.count(Norm.id),
            func.count(Norm.in_force_version_number),
            func.count(case((_kept_clause(latest), 1))),
        )
        .join(Community, Community.id == Norm.community_id)
        .outerjoin(latest, latest.c.norm_id == Norm.id)
        .outerjoin(NormReview, NormReview.id == latest.c.review_id)
        .where(Norm.author_id == member.id, visible_communities_clause(viewer))
        .group_by(Norm.community_id)
    ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def _reminder_counts(session: Session, member: User, viewer: User | None) -> dict[int, tuple]:
    is_reminder = Reminder.kind == REMINDER
    rows = session.execute(
        select(
            Reminder.community_id,
            func.count(case((is_reminder, 1))),
            func.count(case((and_(is_reminder, Reminder.checked_found_exposed), 1))),
            func.count(case((Reminder.kind == SHARE, 1))),
        )
        .join(Community, Community.id == Reminder.community_id)
        .where(Reminder.from_user_id == member.id, communities_allowing_clause(ACTIVITY, viewer))
        .group_by(Reminder.community_id)
    ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def _review_counts(session: Session, member: User, viewer: User | None) -> dict[int, int]:
    rows = session.execute(
        select(Norm.community_id, func.count(ReviewAnswer.id))
        .join(NormReview, NormReview.id == ReviewAnswer.review_id)
        .join(Norm, Norm.id == NormReview.norm_id)
        .join(Community, Community.id == Norm.community_id)
        .where(ReviewAnswer.user_id == member.id, communities_allowing_clause(ACTIVITY, viewer))
        .group_by(Norm.community_id)
    ).all()
    return dict(rows)


def member_record(session: Session, member: User, viewer: User | None) -> MemberRecord:
    """``member``'s record as ``viewer`` may see it: a row per community with anything to show.

    Four queries whatever the history: norms, reminders and reviews grouped by
    community, then those communities, each with whether the viewer sees its activity.
    """
    norms = _norm_counts(session, member, viewer)
    reminders = _reminder_counts(session, member, viewer)
    reviews = _review_counts(session, member, viewer)
    ids = set(norms) | set(reminders) | set(reviews)
    record = MemberRecord(member)
    if not ids:
        return record
    rows = session.execute(
        select(Community, communities_allowing_clause(ACTIVITY, viewer).label("activity"))
        .where(Community.id.in_(ids))
        .order_by(func.lower(Community.name), Community.id)
    ).all()
    for community, activity in rows:
        counts = CommunityCounts(community, *norms.get(community.id, (0, 0, 0)))
        if activity:
            counts.reminders, counts.after_exposed_check, counts.shares = reminders.get(
                community.id, (0, 0, 0)
            )
            counts.reviews = reviews.get(community.id, 0)
        record.communities.append(counts)
    return record


# -- The lists a count opens ------------------------------------------------------------------


def member_list(
    session: Session,
    member: User,
    viewer: User | None,
    part: str,
    community: Community | None,
    number: int,
    per_page: int,
) -> Page:
    """Page ``number`` of what the count ``part`` (a key of LISTS) counts, as ``viewer`` may
    see it: in ``community`` when a community's row was opened, else in every one listed."""
    if part in NORM_LISTS:
        query, community_column = _norms_query(member, viewer, part), Norm.community_id
    elif part == "reminders":
        query, community_column = _reminders_query(member, viewer), Reminder.community_id
    else:
        query, community_column = _reviews_query(member, viewer), Norm.community_id
    if community is not None:
        query = query.where(community_column == community.id)
    return paginate(session, query, number, per_page)


def _norms_query(member: User, viewer: User | None, which: str) -> Select:
    """The norms a norm count counts (``which``: a key of NORM_LISTS), newest activity first."""
    latest = latest_decided_reviews()
    query = (
        select(Norm)
        .join(Community, Community.id == Norm.community_id)
        .where(Norm.author_id == member.id, visible_communities_clause(viewer))
        .order_by(Norm.last_activity_at.desc(), Norm.id.desc())
        .options(selectinload(Norm.community))
    )
    if which == "in-force":
        query = query.where(Norm.in_force_version_number.is_not(None))
    elif which == "kept":
        query = (
            query.join(latest, latest.c.norm_id == Norm.id)
            .join(NormReview, NormReview.id == latest.c.review_id)
            .where(_kept_clause(latest))
        )
    return query


def _reminders_query(member: User, viewer: User | None) -> Select:
    """The reminders and shares ``member`` made, newest first, where the viewer sees activity.

    Whom they reminded is left out: the person reminded and the community's stewards
    see that (``/exposure/reminders``, the stewards' list); fellow members see the count.
    """
    return (
        select(Reminder)
        .join(Community, Community.id == Reminder.community_id)
        .where(Reminder.from_user_id == member.id, communities_allowing_clause(ACTIVITY, viewer))
        .order_by(Reminder.id.desc())
        .options(selectinload(Reminder.norm).selectinload(Norm.community))
    )


def _reviews_query(member: User, viewer: User | None) -> Select:
    """(answer, round) pairs: the review rounds ``member`` answered, newest answer first."""
    return (
        select(ReviewAnswer, NormReview)
        .join(NormReview, NormReview.id == ReviewAnswer.review_id)
        .join(Norm, Norm.id == NormReview.norm_id)
        .join(Community, Community.id == Norm.community_id)
        .where(ReviewAnswer.user_id == member.id, communities_allowing_clause(ACTIVITY, viewer))
        .order_by(ReviewAnswer.answered_at.desc(), ReviewAnswer.id.desc())
        .options(selectinload(NormReview.norm).selectinload(Norm.community))
    )
