"""Recording and summarising reader responses.

History is append-only: every change of mind adds a Response row with its
per-assumption answers; the newest row per (user, norm) is their current say.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import NamedTuple

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from normhub import events, policy
from normhub.accounts.models import User
from normhub.communities.services import active_membership
from normhub.errors import Forbidden, ValidationFailed
from normhub.idlist import id_list, in_ids
from normhub.kept import kept_or_built
from normhub.norms.models import Assumption, Norm, NormVersion
from normhub.norms.refs import NORM_REF_COLUMNS
from normhub.responses import kept_tallies
from normhub.responses.models import (
    AGREEMENTS,
    ENDORSEMENTS,
    REASON_MAX,
    UNDERSTOOD,
    AssumptionResponse,
    Response,
)
from normhub.text import require_plain_text


@dataclass(frozen=True)
class AssumptionAnswer:
    understood: str
    agreement: str
    reason: str = ""


def can_respond(session: Session, norm: Norm, user: User | None) -> bool:
    if norm.status not in ("open", "in_force"):
        return False
    return policy.allows("norm.respond", active_membership(session, norm.community, user), user)


def _check_reason(reason: str, what: str) -> str:
    require_plain_text(reason, f"The reason for {what}", multiline=True)
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise ValidationFailed(f"The reason for {what} must be at most {REASON_MAX} characters.")
    return reason


def record_response(
    session: Session,
    norm: Norm,
    user: User,
    understood: str,
    endorsement: str,
    reason: str = "",
    answers: dict[int, AssumptionAnswer] | None = None,
) -> Response:
    """Record ``user``'s response to the current version of ``norm``.

    ``answers`` maps assumption ids of the current version to answers; an
    assumption left out is simply not answered.
    """
    if not can_respond(session, norm, user):
        raise Forbidden(
            "Only members can respond, and only to norms open for discussion or in force."
        )
    if understood not in UNDERSTOOD:
        raise ValidationFailed("Say whether you understood the norm.", field="understood")
    if endorsement not in ENDORSEMENTS:
        raise ValidationFailed("Say whether you endorse the norm.", field="endorsement")
    version = session.get(NormVersion, norm.current_version_id)
    valid_ids = {a.id: a for a in version.assumptions}
    response = Response(
        user_id=user.id,
        norm_id=norm.id,
        version_id=version.id,
        understood=understood,
        endorsement=endorsement,
        reason=_check_reason(reason, "the norm"),
    )
    for assumption_id, answer in (answers or {}).items():
        assumption = valid_ids.get(assumption_id)
        if assumption is None:
            raise ValidationFailed("That assumption is not part of the current version.")
        if answer.understood not in UNDERSTOOD or answer.agreement not in AGREEMENTS:
            raise ValidationFailed(f"Answer both questions for assumption {assumption.position}.")
        response.assumption_responses.append(
            AssumptionResponse(
                assumption_id=assumption_id,
                understood=answer.understood,
                agreement=answer.agreement,
                reason=_check_reason(answer.reason, f"assumption {assumption.position}"),
            )
        )
    session.add(response)
    session.flush()
    events.publish(
        session, events.Response.Recorded, response=response, norm=norm, version=version, user=user
    )
    return response


def latest_response(session: Session, norm: Norm, user: User | None) -> Response | None:
    if user is None:
        return None
    return session.scalar(_latest_response_statement(), {"norm_id": norm.id, "user_id": user.id})


@cache
def _latest_response_statement():
    # Built once, with bound parameters: every member's view of a norm page asks it, and
    # building it with its loader options cost more CPU than running it.
    return (
        select(Response)
        .where(Response.norm_id == bindparam("norm_id"), Response.user_id == bindparam("user_id"))
        .order_by(Response.id.desc())
        .limit(1)
        .options(
            selectinload(Response.assumption_responses).selectinload(AssumptionResponse.assumption)
        )
    )


@dataclass(frozen=True)
class EarlierAnswer:
    """One assumption of the current version, next to a response to an older text.

    ``state``: "same" (worded as when answered), "changed" (reworded or re-explained
    since) or "new" (not in the version answered); ``answer`` is what was answered
    then, if anything.
    """

    state: str
    answer: AssumptionResponse | None = None
    earlier_statement: str = ""


def earlier_answers(version: NormVersion, previous: Response) -> list[EarlierAnswer]:
    """For each assumption of ``version`` (in order), how it compares with the version
    ``previous`` answered and what was answered, matched by the cross-version key."""
    before = {a.key: a for a in previous.version.assumptions}
    answered = {a.assumption.key: a for a in previous.assumption_responses}
    result = []
    for assumption in version.assumptions:
        old = before.get(assumption.key)
        if old is None:
            result.append(EarlierAnswer("new"))
            continue
        same = (old.statement, old.explanation) == (assumption.statement, assumption.explanation)
        result.append(
            EarlierAnswer(
                "same" if same else "changed",
                answered.get(assumption.key),
                "" if old.statement == assumption.statement else old.statement,
            )
        )
    return result


def response_history(session: Session, norm: Norm, user: User) -> list[Response]:
    return list(
        session.scalars(
            select(Response)
            .where(Response.norm_id == norm.id, Response.user_id == user.id)
            .order_by(Response.id.desc())
            .options(
                selectinload(Response.assumption_responses).selectinload(
                    AssumptionResponse.assumption
                ),
                selectinload(Response.version),
            )
        )
    )


def latest_response_ids(norm_ids_clause, version_only: bool = True):
    """Subquery of the newest Response id per (user, norm) for the given norms."""
    return (
        select(func.max(Response.id).label("id"))
        .where(norm_ids_clause)
        .group_by(Response.user_id, Response.norm_id)
    )


@dataclass
class VersionChange:
    number: int
    change_summary: str
    is_material: bool
    created_at: datetime


@dataclass
class RevisedSinceResponse:
    """A norm revised materially after a member's latest response to it."""

    user_id: int
    norm: Row  # with NORM_REF_COLUMNS
    responded_number: int
    # Every version after the one responded to, oldest first (minor ones too).
    changes: list[VersionChange]

    def changed_materially_between(self, start: datetime, end: datetime) -> bool:
        return any(c.is_material and start <= c.created_at < end for c in self.changes)


def revised_since_responses(
    session: Session, user_ids: list[int], community_ids: set[int]
) -> list[RevisedSinceResponse]:
    """Norms (open or in force, in ``community_ids``) whose newest material version
    is newer than the version each of ``user_ids`` last responded to, with the
    versions since. Two queries, the second only when some response is stale.
    """
    stale = session.execute(
        _stale_responses_statement(),
        {"user_ids": user_ids, "community_ids": sorted(community_ids)},
    ).all()
    if not stale:
        return []
    changes = revisions_of(session, {row.id for row in stale})
    return [
        RevisedSinceResponse(
            row.user_id,
            row,
            row.responded_number,
            [c for c in changes.get(row.id, ()) if c.number > row.responded_number],
        )
        for row in stale
    ]


@cache
def _stale_responses_statement():
    # Built once, with bound parameters (``user_ids``, ``community_ids``): building it
    # (an aliased version, a norm's reference columns) cost more CPU than running it,
    # on every digest preview.
    responded = aliased(NormVersion)
    return (
        select(Response.user_id, responded.number.label("responded_number"), *NORM_REF_COLUMNS)
        .join(responded, responded.id == Response.version_id)
        .join(Norm, Norm.id == Response.norm_id)
        .where(
            Response.id.in_(latest_response_ids(in_ids(Response.user_id, id_list("user_ids")))),
            Norm.community_id.in_(bindparam("community_ids", expanding=True)),
            Norm.status.in_(("open", "in_force")),
            Norm.last_material_version_number > responded.number,
        )
    )


def answered_current(
    session: Session, user_ids: list[int], community_ids: set[int]
) -> set[tuple[int, int]]:
    """(user id, norm id) for each norm (open or in force, in ``community_ids``) that
    one of ``user_ids`` answered on its current text: a response to its newest
    material version or a later (minor) one, the answers ``aggregate_responses``
    counts. One query, found through each member's responses (their index), not
    through the norms."""
    if not user_ids or not community_ids:
        return set()
    parameters = {"user_ids": user_ids, "community_ids": sorted(community_ids)}
    return {
        (row.user_id, row.norm_id)
        for row in session.execute(_answered_current_statement(), parameters)
    }


@cache
def _answered_current_statement():
    # Built once, with bound parameters, as ``_stale_responses_statement``.
    return (
        select(Response.user_id, Response.norm_id)
        .join(NormVersion, NormVersion.id == Response.version_id)
        .join(Norm, Norm.id == Response.norm_id)
        .where(
            in_ids(Response.user_id, id_list("user_ids")),
            Norm.community_id.in_(bindparam("community_ids", expanding=True)),
            Norm.status.in_(("open", "in_force")),
            NormVersion.number >= Norm.last_material_version_number,
        )
        .distinct()
    )


def revisions_of(session: Session, norm_ids: set[int]) -> dict[int, list[VersionChange]]:
    """Each norm's revisions (version 2 on), oldest first. One query."""
    changes: dict[int, list[VersionChange]] = defaultdict(list)
    for row in session.execute(
        select(
            NormVersion.norm_id,
            NormVersion.number,
            NormVersion.change_summary,
            NormVersion.is_material,
            NormVersion.created_at,
        )
        .where(NormVersion.norm_id.in_(norm_ids), NormVersion.number > 1)
        .order_by(NormVersion.norm_id, NormVersion.number)
    ):
        changes[row.norm_id].append(
            VersionChange(row.number, row.change_summary, row.is_material, row.created_at)
        )
    return changes


@dataclass
class AssumptionTally:
    assumption: Assumption
    understood: Counter = field(default_factory=Counter)
    agreement: Counter = field(default_factory=Counter)

    @property
    def disagree_share(self) -> float:
        total = sum(self.agreement.values())
        return self.agreement["disagree"] / total if total else 0.0


@dataclass
class ResponseAggregate:
    respondents: int
    understood: Counter
    endorsement: Counter
    assumptions: list[AssumptionTally]
    # The oldest version whose answers count: the latest material one.
    counted_from: int = 1

    @property
    def crux(self) -> AssumptionTally | None:
        """The assumption most disagreed with, if anyone disagrees with any."""
        contested = [t for t in self.assumptions if t.agreement["disagree"]]
        return max(
            contested, key=lambda t: (t.agreement["disagree"], t.disagree_share), default=None
        )


@cache
def _tally_statements():
    """The two statements of ``aggregate_responses``, built once with bound parameters
    (``norm_id``, ``counted_from``): building and cache-keying them cost more CPU than
    SQLite needs to run them, on every view of a norm page."""
    counted = (
        select(Response.id)
        .join(NormVersion, NormVersion.id == Response.version_id)
        .where(
            Response.id.in_(latest_response_ids(Response.norm_id == bindparam("norm_id"))),
            NormVersion.number >= bindparam("counted_from"),
        )
    )
    overall = (
        select(Response.understood, Response.endorsement, func.count())
        .where(Response.id.in_(counted))
        .group_by(Response.understood, Response.endorsement)
    )
    by_assumption = (
        select(
            Assumption.key,
            AssumptionResponse.understood,
            AssumptionResponse.agreement,
            func.count(),
        )
        .join(Assumption, Assumption.id == AssumptionResponse.assumption_id)
        .where(
            AssumptionResponse.response_id.in_(counted),
            # Implied by the response's norm; said, so the database starts from the
            # norm's few assumptions: PostgreSQL looked each of 3,072 answers' up by id.
            Assumption.version_id.in_(
                select(NormVersion.id).where(NormVersion.norm_id == bindparam("norm_id"))
            ),
        )
        .group_by(Assumption.key, AssumptionResponse.understood, AssumptionResponse.agreement)
    )
    return overall, by_assumption


class CountedAnswers(NamedTuple):
    """What the database counted for a norm's tallies: plain rows, kept between requests."""

    answers: tuple  # (understood, endorsement, count)
    by_assumption: tuple  # (assumption key, understood, agreement, count)


def _count_answers(session: Session, keys: list[tuple[int, int]]) -> dict:
    """Counted answers by (norm id, oldest counted version): two queries each, one when
    nobody answered."""
    overall, by_assumption = _tally_statements()
    counted = {}
    for norm_id, counted_from in keys:
        # Counted by the database: a thread read on every visit to the norm, with
        # hundreds of respondents, took a fifth of the page's time tallied in Python.
        params = {"norm_id": norm_id, "counted_from": counted_from}
        answers = tuple(tuple(row) for row in session.execute(overall, params))
        assumptions = (
            tuple(tuple(row) for row in session.execute(by_assumption, params)) if answers else ()
        )
        counted[(norm_id, counted_from)] = CountedAnswers(answers, assumptions)
    return counted


def aggregate_responses(session: Session, norm: Norm) -> ResponseAggregate:
    """Tallies over each member's latest response *on the current material text*.

    A minor revision changes only wording, so an answer to any version since
    the latest material one counts, as the exposure check counts it; its
    answers on assumptions are carried to the current version's assumptions
    by their cross-version key. Two queries, none while the counts are kept
    (``kept_tallies``: until someone answers).
    """
    version = session.get(NormVersion, norm.current_version_id)
    key = (norm.id, norm.last_material_version_number)
    counted = kept_or_built(kept_tallies.EXTENSION, session, [key], _count_answers)
    understood, endorsement = Counter(), Counter()
    for answered, endorsed, count in counted[key].answers:
        understood[answered] += count
        endorsement[endorsed] += count
    tallies = {a.key: AssumptionTally(a) for a in version.assumptions}
    for key_of_assumption, answered, agreement, count in counted[key].by_assumption:
        tally = tallies.get(key_of_assumption)
        if tally is not None:
            tally.understood[answered] += count
            tally.agreement[agreement] += count
    return ResponseAggregate(
        respondents=understood.total(),
        understood=understood,
        endorsement=endorsement,
        assumptions=list(tallies.values()),
        counted_from=norm.last_material_version_number,
    )
