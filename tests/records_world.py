"""Builders for what a record counts: reminders as the remind flow records them, and review
rounds through the reviews feature (opened, answered, decided), at chosen instants; and a
member's record built with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from normhub.accounts.models import User
from normhub.communities.models import Community
from normhub.exposure.check import check_exposure, record_page_check
from normhub.exposure.models import Reminder
from normhub.norms.models import Norm
from normhub.reviews.models import NormReview
from normhub.reviews.schedule import open_review
from normhub.reviews.services import AssumptionVerdict, decide, record_answer, reviewed_version


def remind(
    session,
    norm: Norm,
    sender: User,
    to: User,
    *,
    at: datetime,
    kind: str = "reminder",
    found_exposed: bool = True,
) -> Reminder:
    """A reminder (or share) after a recorded check, as the remind flow writes it."""
    check = record_page_check(session, sender, to, norm, check_exposure(session, norm, to))
    reminder = Reminder(
        norm_id=norm.id,
        version_number=norm.current_version_number,
        community_id=norm.community_id,
        from_user_id=sender.id,
        to_user_id=to.id,
        check_id=check.id,
        kind=kind,
        note="Have a look." if kind == "reminder" else "",
        checked_found_exposed=found_exposed,
        created_at=at,
    )
    session.add(reminder)
    session.flush()
    return reminder


def review(
    session,
    norm: Norm,
    *,
    decider: User | None = None,
    outcome: str | None = None,
    closed_at: datetime | None = None,
    note: str = "",
    answers: dict[User, str] | None = None,
    assumption_outcomes: dict[User, list[str]] | None = None,
) -> NormReview:
    """A round of ``norm``'s version in force, through the reviews feature: opened, answered,
    and decided by ``decider`` if ``outcome`` (then dated ``closed_at``, for the record's order).

    ``answers``: each member's "did it work" word; ``assumption_outcomes``: each member's
    word on the assumptions of the version, in order.
    """
    round_ = open_review(session, norm)
    version = reviewed_version(session, round_)
    assumption_outcomes = assumption_outcomes or {}
    for person, word in (answers or {}).items():
        said = assumption_outcomes.get(person, [])
        verdicts = [
            AssumptionVerdict(a.id, outcome_word, "")
            for a, outcome_word in zip(version.assumptions, said, strict=False)
        ]
        record_answer(session, round_, person, word, "", verdicts)
    if outcome is not None:
        decide(session, round_, decider, outcome, note)
        round_.closed_at = closed_at or round_.closed_at
        session.flush()
    return round_


@dataclass
class RosasRecord:
    rosa: User
    hidden: Community  # members-only: "A" below
    public: Community  # "B" below
    viewers: dict[str, User]  # by who they are to Rosa


def rosas_record(session, factory) -> RosasRecord:
    """Rosa, a member of a members-only community A and of a public community B, active in both.

    In A: 3 norms proposed, 2 put in force (one retired since), 1 kept after review; 4
    reminders (3 after a check that found the person exposed) and a share; 2 reviews answered.
    In B: 2 proposed, 1 in force and kept; 1 reminder; 1 review answered.
    """
    rosa = factory.user("Rosa Record")
    a = factory.community(visibility="members", name="Hidden Tenants")
    b = factory.community(name="Open Orchard")
    factory.member(a, rosa)
    factory.member(b, rosa)
    a_friend, b_friend = factory.member(a, name="Anna Tenant"), factory.member(b, name="Bo Picker")
    steward_a = factory.member(a, role="steward")

    kept_a = factory.norm(a, rosa, status="in_force", title="Rent talk stays in the room")
    retired_a = factory.norm(a, rosa, status="in_force", title="Quiet hours after ten")
    factory.norm(a, rosa, status="open", title="Shared laundry rota")
    review(
        session,
        kept_a,
        decider=steward_a,
        outcome="kept",
        closed_at=datetime(2026, 6, 1),
        answers={rosa: "held", a_friend: "held"},
    )
    review(
        session,
        retired_a,
        decider=steward_a,
        outcome="retire",
        closed_at=datetime(2026, 6, 2),
        answers={rosa: "failed"},
    )
    for day, exposed in ((1, True), (2, True), (3, True), (4, False)):
        remind(session, kept_a, rosa, a_friend, at=datetime(2026, 7, day), found_exposed=exposed)
    remind(
        session, kept_a, rosa, a_friend, at=datetime(2026, 7, 5), kind="share", found_exposed=False
    )

    kept_b = factory.norm(b, rosa, status="in_force", title="Pick only ripe fruit")
    factory.norm(b, rosa, status="draft", title="Ladders back by dusk")
    steward_b = factory.member(b, role="steward")
    review(
        session,
        kept_b,
        decider=steward_b,
        outcome="kept",
        closed_at=datetime(2026, 6, 3),
        answers={rosa: "held"},
    )
    remind(session, kept_b, rosa, b_friend, at=datetime(2026, 8, 1))
    session.commit()
    viewers = {
        "outsider": factory.user("Otto Outsider"),
        "fellow in B": factory.member(b, name="Fiona Fellow"),
        "fellow in A": factory.member(a, name="Tom Tenant"),
        "site admin": factory.user("Sita Admin", admin=True),
    }
    return RosasRecord(rosa, a, b, viewers)
