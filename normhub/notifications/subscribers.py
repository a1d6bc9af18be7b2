"""Who is told what when something happens elsewhere (see ``normhub.events``).

Each receiver turns one event into notices through :func:`services.notify`,
which keeps to members who may see the community. They run in the change's
transaction, so a notice exists exactly when its cause does. Checks are the
exception: a periodic job tells the people checked (``notifications.checks``),
so that the API's check, the hottest path, writes its record and nothing else.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from normhub import events
from normhub.accounts.models import User
from normhub.communities.services import active_member_ids
from normhub.markdown import mentioned_handles
from normhub.norms.models import STATUS_LABELS, Norm, NormVersion
from normhub.notifications.services import Notice, norm_label, notify
from normhub.responses.models import Response
from normhub.urls import site_path


def _norm_path(norm: Norm, endpoint: str = "norms.show", anchor: str = "", **values) -> str:
    path = site_path(endpoint, slug=norm.community.slug, norm_ref=norm.slug, **values)
    return f"{path}#{anchor}" if anchor else path


def _ids_of_handles(session: Session, handles: set[str]) -> list[int]:
    if not handles:
        return []
    return list(session.scalars(select(User.id).where(User.handle.in_(sorted(handles)))))


def _tell(
    session: Session, kind: str, norm: Norm, summary: str, target: str, actor_id, to, **more
) -> None:
    """Notify ``to`` (user ids) of something about ``norm`` that ``actor_id`` did."""
    notice = Notice(
        kind, norm.community_id, summary, target, norm_id=norm.id, actor_id=actor_id, **more
    )
    notify(session, notice, to)


# -- Comments: replies and mentions ------------------------------------------------------


def comment_posted(session: Session, *, comment) -> None:
    norm, author = comment.norm, comment.author
    # The comment's lasting address: which page of the thread shows it changes.
    target = site_path("discussion.comment", slug=norm.community.slug, comment_id=comment.id)
    replied_to = set()
    if comment.parent is not None and comment.parent.author_id != author.id:
        replied_to = {comment.parent.author_id}
        _tell(
            session,
            "reply",
            norm,
            f"{author.display_name} replied to your comment on {norm_label(norm)}",
            target,
            author.id,
            replied_to,
        )
    mentioned = set(_ids_of_handles(session, mentioned_handles(comment.body))) - replied_to
    _tell(
        session,
        "mention",
        norm,
        f"{author.display_name} mentioned you in a comment on {norm_label(norm)}",
        target,
        author.id,
        mentioned,
    )


# -- Norms: mentions in essays, material revisions, status ---------------------------------


def _essay_mentions(session: Session, norm: Norm, version: NormVersion, before: str) -> None:
    new = mentioned_handles(version.body) - mentioned_handles(before)
    _tell(
        session,
        "mention",
        norm,
        f"{version.editor.display_name} mentioned you in {norm_label(norm)}",
        _norm_path(norm),
        version.editor_id,
        _ids_of_handles(session, new),
    )


def norm_proposed(session: Session, *, norm, author) -> None:
    # A draft is its author's alone: its mentions are heard when it opens.
    if norm.status != "draft":
        _essay_mentions(session, norm, session.get(NormVersion, norm.current_version_id), "")


def norm_revised(session: Session, *, norm, version, material) -> None:
    previous = session.scalar(
        select(NormVersion.body).where(
            NormVersion.norm_id == norm.id, NormVersion.number == version.number - 1
        )
    )
    if norm.status != "draft":
        _essay_mentions(session, norm, version, previous or "")
    if not material:
        return
    responders = session.scalars(
        select(Response.user_id).where(Response.norm_id == norm.id).distinct()
    )
    summary = f"{norm_label(norm)} changed materially since you answered: re-read needed"
    if version.change_summary:
        summary += f" (version {version.number}: {version.change_summary})"
    _tell(
        session,
        "revised",
        norm,
        summary,
        _norm_path(norm, "norms.diff", to=version.number),
        version.editor_id,
        responders,
        group_key=f"revised:{norm.id}",
        group_summary=f"{norm_label(norm)} changed materially {{count}} times since "
        "you answered: re-read needed",
    )


def status_changed(session: Session, *, norm, old_status, new_status, actor) -> None:
    label = STATUS_LABELS[new_status].lower()
    _tell(
        session,
        "status",
        norm,
        f"{norm_label(norm)}, which you wrote, is now {label}",
        _norm_path(norm),
        actor.id,
        {norm.author_id},
    )
    if new_status == "open" and old_status == "draft":
        _essay_mentions(session, norm, session.get(NormVersion, norm.current_version_id), "")
        watchers = set(active_member_ids(session, norm.community))
        _tell(
            session,
            "opened",
            norm,
            f"New in {norm.community.name}: {norm_label(norm)} is open for discussion",
            _norm_path(norm),
            actor.id,
            watchers - {norm.author_id},
        )


# -- Responses to a norm one wrote, grouped --------------------------------------------------


def response_recorded(session: Session, *, response, norm, version, user) -> None:
    _tell(
        session,
        "responses",
        norm,
        f"{user.display_name} responded to {norm_label(norm)}",
        _norm_path(norm, anchor="responses"),
        user.id,
        {norm.author_id},
        group_key=f"responses:{norm.id}",
        group_summary=f"{{count}} responses to {norm_label(norm)}",
    )


# -- Exposure: nudges, checks, reminders and shares about a member -------------------------


def nudge_queued(session: Session, *, norm, steward, nudges) -> None:
    _tell(
        session,
        "nudge",
        norm,
        f"A steward of {norm.community.name} asks you to read {norm_label(norm)}",
        _norm_path(norm),
        steward.id,
        {nudge.member_id for nudge in nudges},
    )


def _reminded(
    session: Session, norm, sender, recipient, verb: str, *, may_email: bool = True
) -> None:
    _tell(
        session,
        "reminder",
        norm,
        f"{sender.display_name} {verb} {norm_label(norm)}",
        site_path("remind.reminders_to_me"),
        sender.id,
        {recipient.id},
        may_email=may_email,
    )


def reminder_recorded(session: Session, *, reminder, norm, sender, recipient) -> None:
    _reminded(session, norm, sender, recipient, "reminded you of")


def norm_shared(session: Session, *, reminder, norm, sender, recipient) -> None:
    # The share is an email already (exposure.emails): the notice adds none.
    _reminded(session, norm, sender, recipient, "shared with you", may_email=False)


# -- Reviews: asked, answered, decided --------------------------------------------------------


def _review_path(norm: Norm, review, anchor: str = "") -> str:
    return _norm_path(norm, "reviews.show", anchor, review_id=review.id)


def review_opened(session: Session, *, review, norm, asked) -> None:
    _tell(
        session,
        "review",
        norm,
        f"{norm_label(norm)} is up for review: did it work, and did its assumptions hold?",
        _review_path(norm, review, "answer"),
        None,
        asked,
    )


def review_answered(session: Session, *, review, norm, answer, user, first) -> None:
    if not first:
        return
    _tell(
        session,
        "review_answers",
        norm,
        f"{user.display_name} answered the review of {norm_label(norm)}",
        _review_path(norm, review, "tallies"),
        user.id,
        {norm.author_id},
        group_key=f"review_answers:{review.id}",
        group_summary=f"{{count}} answers to the review of {norm_label(norm)}",
    )


REVIEW_OUTCOME_WORDS = {"kept": "kept", "revise": "to be revised", "retire": "retired"}


def review_decided(session: Session, *, review, norm, actor, answerer_ids) -> None:
    outcome = REVIEW_OUTCOME_WORDS[review.outcome]
    if review.outcome == "revise":
        _tell(
            session,
            "reviewed",
            norm,
            f"The review of {norm_label(norm)}, which you wrote, asks you to revise it",
            _norm_path(norm, "norms.edit"),
            actor.id,
            {norm.author_id},
        )
    else:
        _tell(
            session,
            "reviewed",
            norm,
            f"The review of {norm_label(norm)}, which you wrote, is decided: {outcome}",
            _review_path(norm, review),
            actor.id,
            {norm.author_id},
        )
    _tell(
        session,
        "reviewed",
        norm,
        f"The review of {norm_label(norm)} you answered is decided: {outcome}",
        _review_path(norm, review),
        actor.id,
        set(answerer_ids) - {norm.author_id},
    )


def connect() -> None:
    events.Comment.Posted.in_transaction.connect(comment_posted)
    events.Norm.Proposed.in_transaction.connect(norm_proposed)
    events.Norm.Revised.in_transaction.connect(norm_revised)
    events.Norm.StatusChanged.in_transaction.connect(status_changed)
    events.Response.Recorded.in_transaction.connect(response_recorded)
    events.Exposure.NudgeQueued.in_transaction.connect(nudge_queued)
    events.Exposure.ReminderRecorded.in_transaction.connect(reminder_recorded)
    events.Exposure.NormShared.in_transaction.connect(norm_shared)
    events.Review.Opened.in_transaction.connect(review_opened)
    events.Review.Answered.in_transaction.connect(review_answered)
    events.Review.Decided.in_transaction.connect(review_decided)
