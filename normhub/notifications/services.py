"""Making notices, reading them, and each member's settings.

Services take the session first and never commit. :func:`notify` is the one
way a notice is made: it keeps to members who may see the community now,
honours watch levels, folds a notice into an unread one about the same thing,
and queues the email the member's settings ask for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, joinedload

from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.communities.services import visible_to_clause
from normhub.db import utcnow
from normhub.errors import NotFound, ValidationFailed
from normhub.mail.addresses import is_deliverable
from normhub.norms.models import Norm
from normhub.notifications.batch import DEFAULTS, MemberSettings, settings_of_members
from normhub.notifications.kinds import (
    DELIVERIES,
    EMAIL,
    KINDS,
    MUTED,
    NORMAL,
    WATCH_LEVELS,
    WATCHING,
)
from normhub.notifications.models import (
    SUMMARY_MAX,
    CommunityWatch,
    Notification,
    NotificationSetting,
)
from normhub.pagination import Page, paginate

# Sends one notice by email; the notifications feature's setup fills it in
# (notifications.emails), so that making a notice never imports templates.
EmailSender = Callable[[Session, User, Notification], None]
_email_sender: list[EmailSender] = []


def register_email_sender(send: EmailSender) -> None:
    _email_sender[:] = [send]


@dataclass(frozen=True)
class Notice:
    """What a notice says and where it leads; ``summary`` may use ``{count}`` for groups."""

    kind: str
    community_id: int
    summary: str
    target: str
    norm_id: int | None = None
    actor_id: int | None = None
    group_key: str = ""
    # For a group: the summary once it stands for more than one thing.
    group_summary: str = ""
    # False when the cause sends its own email (a shared norm arrives by mail itself).
    may_email: bool = True


def _recipients(session: Session, notice: Notice, user_ids: Iterable[int]) -> list[User]:
    """Of ``user_ids``, the active members of the notice's community its kind may reach."""
    kind = KINDS[notice.kind]
    wanted = set(user_ids) - {notice.actor_id}
    if not wanted:
        return []
    watch = func.coalesce(CommunityWatch.level, NORMAL)
    query = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(
            CommunityWatch,
            (CommunityWatch.user_id == User.id)
            & (CommunityWatch.community_id == Membership.community_id),
        )
        .where(
            User.id.in_(sorted(wanted)),
            User.deleted_at.is_(None),
            Membership.community_id == notice.community_id,
            Membership.left_at.is_(None),
        )
        .order_by(User.id)
    )
    if kind.watching_only:
        query = query.where(watch == WATCHING)
    elif not kind.personal:
        query = query.where(watch != MUTED)
    return list(session.scalars(query))


def notify(session: Session, notice: Notice, user_ids: Iterable[int]) -> list[Notification]:
    """Tell each of ``user_ids`` who may hear it; the notices made or brought up to date.

    A fixed number of queries however many are told (a nudge may reach hundreds):
    the recipients, their unread notices in the group, their settings.
    """
    recipients = _recipients(session, notice, user_ids)
    if not recipients:
        return []
    ids = [user.id for user in recipients]
    unread = _unread_in_group(session, notice, ids)
    settings = settings_of_members(session, ids)
    made = []
    for user in recipients:
        if user.id in unread:
            made.append(_fold(unread[user.id], notice))
        else:
            made.append(_add(session, user, notice, settings.get(user.id, DEFAULTS)))
    session.flush()
    return made


def _unread_in_group(session: Session, notice: Notice, user_ids: list[int]) -> dict:
    """Each recipient's unread notice in the notice's group (none without a group)."""
    if not notice.group_key:
        return {}
    rows = session.scalars(
        select(Notification).where(
            Notification.user_id.in_(user_ids),
            Notification.group_key == notice.group_key,
            Notification.read_at.is_(None),
        )
    )
    return {row.user_id: row for row in rows}


def _fold(unread: Notification, notice: Notice) -> Notification:
    unread.count += 1
    unread.actor_id = None
    unread.summary = notice.group_summary.format(count=unread.count)[:SUMMARY_MAX]
    unread.updated_at = utcnow()
    return unread


def _add(session: Session, user: User, notice: Notice, settings: MemberSettings) -> Notification:
    now = utcnow()
    notification = Notification(
        user_id=user.id,
        kind=notice.kind,
        community_id=notice.community_id,
        norm_id=notice.norm_id,
        actor_id=notice.actor_id,
        summary=notice.summary[:SUMMARY_MAX],
        target=notice.target,
        group_key=notice.group_key,
        count=1,
        created_at=now,
        updated_at=now,
    )
    session.add(notification)
    wants_email = notice.may_email and settings.delivery(notice.kind) == EMAIL
    # Deliverability is asked last: it is a query, and only those who want the email need it.
    if (
        wants_email
        and _email_sender
        and user.email_verified
        and is_deliverable(session, user.email)
    ):
        session.flush()
        _email_sender[0](session, user, notification)
        notification.emailed_at = now
    return notification


# -- Reading -------------------------------------------------------------------------------


def _seen_now(user: User):
    """Notices from communities the member may still see: one they left that is members-only
    says nothing more to them, not even a count."""
    return _seen_by(bool(user.is_admin), user.id)


def _seen_by(is_admin: bool, user_id):
    """``_seen_now`` for a member given as whether they are a site admin and their id: a
    value, or a bound parameter in a statement built once."""
    return Notification.community_id.in_(
        select(Community.id).where(visible_to_clause(is_admin, user_id))
    )


def unread_count(session: Session, user: User) -> int:
    statement = _unread_count_statement(bool(user.is_admin))
    return session.scalar(statement, {"user_id": user.id}) or 0


@cache
def _unread_count_statement(is_admin: bool):
    # Built once (for admins, and for everyone else), with the member's id bound at run
    # time: every page a member opens shows the count, and building the statement cost
    # more CPU than running it.
    return select(func.count(Notification.id)).where(
        Notification.user_id == bindparam("user_id"),
        Notification.read_at.is_(None),
        _seen_by(is_admin, bindparam("user_id")),
    )


def notifications_page(
    session: Session, user: User, number: int, per_page: int, *, unread_only: bool = False
) -> Page:
    """The member's notices, newest first, unread ones first among equals."""
    query = (
        select(Notification)
        .where(Notification.user_id == user.id, _seen_now(user))
        .options(joinedload(Notification.community), joinedload(Notification.actor))
        .order_by(Notification.updated_at.desc(), Notification.id.desc())
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return paginate(session, query, number, per_page)


def own_notification(session: Session, user: User, notification_id: int) -> Notification:
    notification = session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user.id, _seen_now(user)
        )
    )
    if notification is None:
        raise NotFound("No such notification.")
    return notification


def mark_read(session: Session, user: User, notification_id: int) -> Notification:
    notification = own_notification(session, user, notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
        session.flush()
    return notification


def mark_all_read(session: Session, user: User) -> int:
    """Mark every unread notice read; how many there were."""
    return session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


# -- Settings ------------------------------------------------------------------------------


def _settings_of(session: Session, user: User) -> MemberSettings:
    return settings_of_members(session, [user.id]).get(user.id, DEFAULTS)


def delivery_for(session: Session, user: User, kind: str) -> str:
    return _settings_of(session, user).delivery(kind)


def deliveries(session: Session, user: User) -> dict[str, str]:
    """Every kind's delivery for ``user``: their choice, or the kind's default."""
    settings = _settings_of(session, user)
    return {name: settings.delivery(name) for name in KINDS}


def set_delivery(session: Session, user: User, kind: str, delivery: str) -> None:
    if kind not in KINDS:
        raise ValidationFailed("Unknown kind of notification.", field="kind")
    if delivery not in DELIVERIES:
        raise ValidationFailed("Choose email at once, the digest, or no email.", field=kind)
    setting = session.get(NotificationSetting, (user.id, kind))
    if setting is None:
        session.add(NotificationSetting(user_id=user.id, kind=kind, delivery=delivery))
    else:
        setting.delivery = delivery
    session.flush()


def watch_level(session: Session, user: User, community: Community) -> str:
    watch = session.get(CommunityWatch, (user.id, community.id))
    return watch.level if watch is not None else NORMAL


def set_watch_level(session: Session, user: User, community: Community, level: str) -> None:
    if level not in WATCH_LEVELS:
        raise ValidationFailed("Choose watching, normal or muted.", field="level")
    watch = session.get(CommunityWatch, (user.id, community.id))
    if watch is None:
        session.add(CommunityWatch(user_id=user.id, community_id=community.id, level=level))
    else:
        watch.level = level
    session.flush()


def norm_label(norm: Norm) -> str:
    return f"“{norm.title}”"
