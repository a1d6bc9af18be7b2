"""The record of checks: who may read one, the checks about a person, and replies.

A check is seen by its checker, the person checked and site admins
(``policy.PARTY_RULES``), and by them only while they may see the community
it is about. So someone checked by members of a members-only community they
are not in learns that a check happened and when, never by whom, on which
norm, or with what answer. The person checked may reply once (and change
their reply); the checker reads it on the check's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from normhub import policy
from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.communities.services import active_membership, can_view, visible_communities_clause
from normhub.db import utcnow
from normhub.errors import Forbidden, NotFound, ValidationFailed
from normhub.exposure.models import REPLY_MAX, ExposureCheck
from normhub.idlist import id_list, in_ids
from normhub.norms.models import Norm
from normhub.pagination import Page, paginate

PER_PAGE = 25


@dataclass
class CheckAboutMe:
    """One check on the checked person's list; ``shown``: they may see its community,
    so its checker, norm and answer too."""

    check: ExposureCheck
    shown: bool


def _sees_community(session: Session, community: Community, user: User) -> bool:
    return can_view(community, active_membership(session, community, user), user)


def _parties(check: ExposureCheck) -> dict:
    return {"checker_id": check.checker_id, "subject_id": check.subject_id}


def may_see(session: Session, check: ExposureCheck, viewer: User | None) -> bool:
    return policy.party_allows("check.see", viewer, **_parties(check)) and _sees_community(
        session, check.norm.community, viewer
    )


def may_reply(session: Session, check: ExposureCheck, viewer: User | None) -> bool:
    return policy.party_allows("check.reply", viewer, **_parties(check)) and _sees_community(
        session, check.norm.community, viewer
    )


def get_check(session: Session, check_id: int, viewer: User | None) -> ExposureCheck:
    """The check ``check_id`` if ``viewer`` may see it; NotFound for everyone else."""
    check = session.scalar(
        select(ExposureCheck)
        .where(ExposureCheck.id == check_id)
        .options(
            selectinload(ExposureCheck.checker),
            selectinload(ExposureCheck.subject),
            selectinload(ExposureCheck.norm).selectinload(Norm.community),
        )
    )
    if check is None or not may_see(session, check, viewer):
        raise NotFound("There is no such check, or it is not yours to see.")
    return check


def checks_about(
    session: Session,
    subject: User,
    viewer: User | None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """Checks made about ``subject``, newest first, a page of :class:`CheckAboutMe`.

    Only they (or a site admin) may look. Whether each is shown in full is
    the subject's own view of its community.
    """
    if viewer is None or (viewer.id != subject.id and not viewer.is_admin):
        raise Forbidden("Only the person checked can see the checks made about them.")
    query = (
        select(ExposureCheck, visible_communities_clause(subject).label("shown"))
        .join(Norm, Norm.id == ExposureCheck.norm_id)
        .join(Community, Community.id == Norm.community_id)
        .where(ExposureCheck.subject_id == subject.id)
        .order_by(ExposureCheck.id.desc())
        .options(
            selectinload(ExposureCheck.checker),
            selectinload(ExposureCheck.norm).selectinload(Norm.community),
        )
    )
    found = paginate(session, query, page, per_page)
    found.items = [CheckAboutMe(check, bool(shown)) for check, shown in found.items]
    return found


def save_reply(session: Session, check: ExposureCheck, viewer: User | None, text: str) -> bool:
    """The checked person's reply, replacing any earlier one; empty text takes it back.

    Returns whether a reply now stands.
    """
    if not may_reply(session, check, viewer):
        raise Forbidden("Only the person checked can reply to a check.")
    text = (text or "").strip()
    if len(text) > REPLY_MAX:
        raise ValidationFailed(f"Keep the reply under {REPLY_MAX} characters.", field="text")
    check.reply = text or None
    check.replied_at = utcnow() if text else None
    session.flush()
    return bool(text)


def checks_about_members(
    session: Session, user_ids: list[int], since: datetime, until: datetime
) -> list:
    """Checks about any of ``user_ids`` made in [since, until), oldest first. One query.

    For a batch of digests. Rows, not ExposureChecks: ``id``, ``subject_id``,
    ``created_at``, ``as_of``, ``level``, ``stale``, ``recommendation``,
    ``norm_id``, ``norm_slug``, ``norm_title``, ``community_id``,
    ``community_slug``, ``community_name``, ``checker_name``; ``is_member``:
    the subject is an active member of the norm's community; ``shown``: the
    subject may see that community (public, a member, or a site admin), so
    may be told who checked, on which norm, and what they were told.
    """
    parameters = {"user_ids": user_ids, "since": since, "until": until}
    return session.execute(_checks_about_members_statement(), parameters).all()


@cache
def _checks_about_members_statement():
    # Built once, with bound parameters (``user_ids``, ``since``, ``until``): building
    # it cost more CPU than running it, on every digest preview.
    is_member = exists(
        select(Membership.id).where(
            Membership.user_id == ExposureCheck.subject_id,
            Membership.community_id == Norm.community_id,
            Membership.left_at.is_(None),
        )
    )
    # Per-row lookups by primary key, as the digest's other batch queries do:
    # joining users would have PostgreSQL hash the whole table for each batch.
    checker_name = select(User.display_name).where(User.id == ExposureCheck.checker_id)
    subject_is_admin = select(User.is_admin).where(User.id == ExposureCheck.subject_id)
    return (
        select(
            ExposureCheck.id,
            ExposureCheck.subject_id,
            ExposureCheck.created_at,
            ExposureCheck.as_of,
            ExposureCheck.level,
            ExposureCheck.stale,
            ExposureCheck.recommendation,
            Norm.id.label("norm_id"),
            Norm.slug.label("norm_slug"),
            Norm.title.label("norm_title"),
            Norm.community_id,
            Community.slug.label("community_slug"),
            Community.name.label("community_name"),
            checker_name.scalar_subquery().label("checker_name"),
            is_member.label("is_member"),
            or_(
                Community.visibility == "public", is_member, subject_is_admin.scalar_subquery()
            ).label("shown"),
        )
        .join(Norm, Norm.id == ExposureCheck.norm_id)
        .join(Community, Community.id == Norm.community_id)
        .where(
            in_ids(ExposureCheck.subject_id, id_list("user_ids")),
            ExposureCheck.created_at >= bindparam("since"),
            ExposureCheck.created_at < bindparam("until"),
        )
        .order_by(ExposureCheck.id)
    )
