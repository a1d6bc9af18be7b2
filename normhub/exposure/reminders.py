"""Reminding someone of a norm the fair way: check first, then only the action the check allows.

A member who wants to remind another of a norm first checks where that person
stands. The check is recorded like every other (the person sees it at
``/exposure/about-me``) and decides the one fair action:

* they have not read the text in force (``share_norm``, ``share_changes``,
  ``remind``): **share** it with them. An email brings the norm, what changed
  since their newest reading and an optional personal message, and the ledger
  records it ``delivered`` to them (which never lowers what they reached);
* they have read it (``ask_reread``: longer ago than the re-read period,
  ``ask_understanding``, ``discuss_assumptions``,
  ``unmet_prerequisites``, ``fair_to_hold``): record a **reminder**, a short
  note they see at ``/exposure/reminders`` and may answer once;
* they are not a member, or nobody is bound by the norm: nothing to do.

The action form names the check it follows, and the server decides again
from that check's record: what the check found (its level on the current
text), still true now, and the check less than an hour old. The form's own
idea of the action is only compared with it, so a "reminder" for someone the
check found unexposed is refused. One check leads to one action at most.

Stewards see every reminder of their community, and how many followed a check
that found the person had read the norm (``remind_rate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from normhub import events, policy
from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.communities.services import active_membership, can_view, visible_communities_clause
from normhub.db import utcnow
from normhub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from normhub.exposure.check import check_exposure, record_page_check
from normhub.exposure.emails import send_norm_shared
from normhub.exposure.ledger import record_event
from normhub.exposure.levels import READ
from normhub.exposure.models import (
    LEVEL_RANK,
    REMINDER_TEXT_MAX,
    ExposureCheck,
    Reminder,
)
from normhub.exposure.report import Standing
from normhub.exposure.standing import standing
from normhub.mail.addresses import is_deliverable
from normhub.norms.models import Norm
from normhub.pagination import Page, paginate

SHARE, REMINDER = "share", "reminder"
# What each recommendation of ``standing`` leaves a member free to do.
SHARE_CODES = frozenset({"share_norm", "share_changes", "remind"})
REMINDER_CODES = frozenset(
    {
        "ask_reread",
        "ask_understanding",
        "discuss_assumptions",
        "unmet_prerequisites",
        "fair_to_hold",
    }
)
# Long enough to write a note; short enough that the check still says how things stand.
CHECK_GOOD_FOR = timedelta(hours=1)
MEMBERS_SHOWN = 200
# Below this many reminders the rate is given as counts only: "2 of 3", not "67 %".
RATE_AS_PERCENT_FROM = 10


def fair_action(code: str) -> str | None:
    """The action a recommendation allows: "share", "reminder", or None (nothing to do)."""
    if code in SHARE_CODES:
        return SHARE
    if code in REMINDER_CODES:
        return REMINDER
    return None


def can_remind(session: Session, community: Community, user: User | None) -> bool:
    return policy.allows("exposure.remind", active_membership(session, community, user), user)


def can_see_reminders(session: Session, community: Community, user: User | None) -> bool:
    return policy.allows(
        "exposure.see-reminders", active_membership(session, community, user), user
    )


def is_active_member(session: Session, community: Community, user: User) -> bool:
    return active_membership(session, community, user) is not None


def require_remind(session: Session, community: Community, user: User | None) -> None:
    if not can_remind(session, community, user):
        raise Forbidden("Only members of this community can remind someone of its norms.")


# -- Choosing the person and checking ------------------------------------------------------


def remindable_members(
    session: Session, community: Community, viewer: User, search: str = "", limit=MEMBERS_SHOWN
) -> tuple[list[User], int]:
    """The community's active members but the viewer, by name (``search`` narrows); and how many."""
    query = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.community_id == community.id,
            Membership.left_at.is_(None),
            User.id != viewer.id,
        )
    )
    search = " ".join(search.split())
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.lower(User.display_name).like(pattern.lower(), escape="\\"))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    members = session.scalars(query.order_by(func.lower(User.display_name), User.id).limit(limit))
    return list(members), total


def check_before_reminding(
    session: Session, viewer: User, norm: Norm, person: User | None
) -> ExposureCheck:
    """Check where ``person`` stands with ``norm``, recorded as the check page records it.

    Returns the recorded check, whose id the action form carries.
    """
    require_remind(session, norm.community, viewer)
    if person is None or not is_active_member(session, norm.community, person):
        raise ValidationFailed("Choose one of this community's members.", field="person")
    if person.id == viewer.id:
        raise ValidationFailed("Choose someone other than yourself.", field="person")
    report = check_exposure(session, norm, person)
    return record_page_check(session, viewer, person, norm, report)


# -- What the check allows -------------------------------------------------------------------


@dataclass
class CheckedAction:
    """A recorded check, where the person stands now, and the one action left to take."""

    check: ExposureCheck
    person: User
    standing: Standing
    action: str | None  # "share", "reminder" or None
    reason: str  # why there is no action, in plain words
    done: Reminder | None  # the action already taken on this check

    @property
    def found_exposed(self) -> bool:
        """The check found them at "read" or better on the text in force."""
        return LEVEL_RANK[self.check.level] >= READ


def _no_action_reason(report: Standing) -> str:
    name = report.subject.display_name
    code = report.recommendation.code
    if code == "not_member":
        return (
            f"{name} is not a member of this community now. Nobody outside it is bound by "
            "its norms, so there is nothing to remind them of."
        )
    if report.norm_status in ("retired", "withdrawn"):
        return "Nobody is bound by this norm any more, so there is nothing to remind anyone of."
    return "Nobody is bound by this norm yet: discuss it, don't enforce it."


def _decide(check: ExposureCheck, found_exposed: bool, report: Standing) -> tuple[str | None, str]:
    """The action the recorded check allows, if it still holds now; else why not."""
    now_allows = fair_action(report.recommendation.code)
    if now_allows is None:
        return None, _no_action_reason(report)
    if utcnow() - check.created_at > CHECK_GOOD_FOR:
        return None, "This check is more than an hour old. Check again: things may have changed."
    found = REMINDER if found_exposed else SHARE
    if found != now_allows:
        return None, (
            f"What {report.subject.display_name} has seen changed since you checked. "
            "Check again to see what is fair now."
        )
    return found, ""


def checked_action(session: Session, viewer: User, norm: Norm, check_id: int) -> CheckedAction:
    """The check ``viewer`` made about someone's standing with ``norm``, and what it allows.

    Only the one who checked may act on a check (anyone else: not found).
    """
    require_remind(session, norm.community, viewer)
    check = session.get(ExposureCheck, check_id)
    if check is None or check.checker_id != viewer.id or check.norm_id != norm.id:
        raise NotFound("There is no such check.")
    person = session.get(User, check.subject_id)
    report = standing(session, norm, person)
    done = session.scalar(select(Reminder).where(Reminder.check_id == check.id))
    found_exposed = LEVEL_RANK[check.level] >= READ
    action, reason = _decide(check, found_exposed, report)
    return CheckedAction(check, person, report, action, reason, done)


def _clean_text(text: str | None, *, required: bool, field: str) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ValidationFailed("Write a short note for them.", field=field)
    if len(text) > REMINDER_TEXT_MAX:
        raise ValidationFailed(
            f"Keep it to {REMINDER_TEXT_MAX:,} characters (this is {len(text):,}).", field=field
        )
    return text


_WRONG_ACTION = {
    SHARE: (
        "Refused: the check found that {name} has not read the current text of this norm. "
        "A reminder would not be fair; share the norm with them instead."
    ),
    REMINDER: (
        "Refused: the check found that {name} has read the current text of this norm, "
        "so there is nothing new to share; record a reminder instead."
    ),
}


@dataclass
class ActionTaken:
    reminder: Reminder
    emailed: bool = False  # a share whose email was queued (and recorded delivered)

    @property
    def outcome(self) -> str:
        """ "reminder", "share", or "share-no-mail" (their address takes no mail)."""
        if self.reminder.kind == SHARE and not self.emailed:
            return "share-no-mail"
        return self.reminder.kind


def act_on_check(
    session: Session, viewer: User, norm: Norm, check_id: int, kind: str, text: str | None
) -> ActionTaken:
    """Share the norm or record a reminder, whichever the check allows; refuse anything else."""
    checked = checked_action(session, viewer, norm, check_id)
    if checked.done is not None:
        raise Conflict("You already acted on this check.")
    if checked.action is None:
        raise Conflict(checked.reason)
    if kind != checked.action:
        raise Conflict(_WRONG_ACTION[checked.action].format(name=checked.person.display_name))
    note = _clean_text(text, required=kind == REMINDER, field="text")
    report = checked.standing
    reminder = Reminder(
        norm_id=norm.id,
        version_number=report.current_version,
        community_id=norm.community_id,
        from_user_id=viewer.id,
        to_user_id=checked.person.id,
        check_id=checked.check.id,
        kind=kind,
        note=note,
        created_at=utcnow(),
        checked_found_exposed=checked.found_exposed,
    )
    session.add(reminder)
    session.flush()
    facts = {"reminder": reminder, "norm": norm, "sender": viewer, "recipient": checked.person}
    if kind == REMINDER:
        events.publish(session, events.Exposure.ReminderRecorded, **facts)
        return ActionTaken(reminder)
    emailed = is_deliverable(session, checked.person.email)
    if emailed:
        send_norm_shared(
            session,
            reminder,
            norm,
            viewer,
            checked.person,
            report.changes_since_read,
            report.newest_read_version,
        )
        record_event(session, checked.person, norm, report.current_version, "delivered")
    events.publish(session, events.Exposure.NormShared, **facts)
    return ActionTaken(reminder, emailed=emailed)


# -- The reminded person -------------------------------------------------------------------


@dataclass
class ReminderToYou:
    """A reminder as its recipient sees it: with names, or (outside a members-only
    community now) only that it exists."""

    reminder: Reminder
    visible: bool

    @property
    def can_reply(self) -> bool:
        return self.visible and self.reminder.reply is None


def _sees_community(session: Session, community: Community, user: User) -> bool:
    return can_view(community, active_membership(session, community, user), user)


def reminders_to(session: Session, viewer: User, number: int, per_page: int) -> Page:
    """Reminders and shares sent to ``viewer``, newest first.

    Whether each community is still visible to them comes with the rows (one
    query for the page), as the checks about them do.
    """
    query = (
        select(Reminder, visible_communities_clause(viewer).label("shown"))
        .join(Community, Community.id == Reminder.community_id)
        .where(Reminder.to_user_id == viewer.id)
        .order_by(Reminder.id.desc())
        .options(
            selectinload(Reminder.norm),
            selectinload(Reminder.community),
            selectinload(Reminder.from_user),
        )
    )
    page = paginate(session, query, number, per_page)
    page.items = [ReminderToYou(reminder, bool(shown)) for reminder, shown in page.items]
    return page


def page_of_reminder(session: Session, viewer: User, reminder_id: int, per_page: int) -> int:
    """Which page of ``reminders_to`` holds this reminder (newest first)."""
    newer = session.scalar(
        select(func.count()).where(Reminder.to_user_id == viewer.id, Reminder.id > reminder_id)
    )
    return (newer or 0) // per_page + 1


def reply_to_reminder(
    session: Session, viewer: User, reminder_id: int, text: str | None
) -> Reminder:
    """The recipient's one answer to a reminder."""
    reminder = session.get(Reminder, reminder_id)
    if (
        reminder is None
        or reminder.to_user_id != viewer.id
        or not _sees_community(session, reminder.community, viewer)
    ):
        raise NotFound("There is no such reminder.")
    if reminder.reply is not None:
        raise Conflict("You have already answered this reminder.")
    reply = _clean_text(text, required=True, field="reply")
    reminder.reply = reply
    reminder.replied_at = utcnow()
    session.flush()
    return reminder


# -- The community's record, for stewards --------------------------------------------------


@dataclass(frozen=True)
class RemindRate:
    """Of the reminders recorded, how many followed a check that found the person exposed."""

    reminders: int
    after_exposed_check: int
    shares: int

    @property
    def percent(self) -> int | None:
        if self.reminders < RATE_AS_PERCENT_FROM:
            return None
        return round(100 * self.after_exposed_check / self.reminders)


def remind_rate(session: Session, community: Community) -> RemindRate:
    is_reminder = Reminder.kind == REMINDER
    row = session.execute(
        select(
            func.count(case((is_reminder, 1))),
            func.count(case((is_reminder & Reminder.checked_found_exposed, 1))),
            func.count(case((Reminder.kind == SHARE, 1))),
        ).where(Reminder.community_id == community.id)
    ).one()
    return RemindRate(reminders=row[0], after_exposed_check=row[1], shares=row[2])


def community_reminders(
    session: Session, viewer: User | None, community: Community, number: int, per_page: int
) -> Page:
    """Every reminder and share in ``community``, newest first: for its stewards."""
    if not can_see_reminders(session, community, viewer):
        raise Forbidden("Only stewards can see the reminders recorded in this community.")
    query = (
        select(Reminder)
        .where(Reminder.community_id == community.id)
        .order_by(Reminder.id.desc())
        .options(
            selectinload(Reminder.norm),
            selectinload(Reminder.from_user),
            selectinload(Reminder.to_user),
        )
    )
    return paginate(session, query, number, per_page)
