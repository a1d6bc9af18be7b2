"""Where a person stands with a norm: the one definition every surface uses.

``standing(db, norm, subject)`` answers for one person, now (from the summary
rows, in one query in the common case) or ``as_of`` an earlier instant
(replayed from the ledger by ``normhub.exposure.history``). Lists of many
people (coverage, the not-yet-exposed list, the reading queue, nudges) ask
the same questions of the summary rows in SQL: ``not_exposed`` and
``reading_state`` here are those questions, so no surface can answer
differently from the check.

The semantics:

* the deepest engagement ever, and on which version (a glance or a delivery
  never lowers it);
* the newest version they read, responded to or wrote, and every material
  change since it;
* what they did with later versions;
* exposed to the norm as it stands = read or better on its current material
  text; writing a version counts as endorsing it;
* exposure ages (``normhub.exposure.ageing``): where a community or a norm
  asks for a re-read every N months, a reading of the current text N or more
  whole months old is *stale by age*. The check and the API say so in plain
  words ("Last read 14 months ago; this community asks for a re-read every
  12"), recommend asking for a re-read and do not call the person fully
  exposed; the lists (the reading queue, the steward's not-yet-exposed list
  and the nudges it feeds, the marks on a community's norm index) count them
  as not exposed; coverage keeps their level and counts them apart
  (``Coverage.reread_due``). As of an instant, a reading is stale when that
  instant is the period or more after it (today's period: periods keep no
  history).

The in-force gate is left alone on purpose: it asks whether enough of the
community understood the text when the norm goes into force, and a re-read
falling due later neither un-forces a norm nor blocks a revision waiting for
the gate by ageing the very readings that earned it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, bindparam, or_, select
from sqlalchemy.orm import Session

from normhub.accounts.models import User
from normhub.autocommit import DirectConnection, DirectStatement
from normhub.db import utcnow
from normhub.exposure import facts, history
from normhub.exposure.ageing import (
    is_stale_by_age,
    months_between,
    period_of,
    reread_period,
    stale_by_age_sql,
)
from normhub.exposure.levels import EXPOSED, NONE, OPENED, READ, NormState
from normhub.exposure.models import LEVEL_RANK, LEVELS, ExposureEvent, ExposureSummary
from normhub.exposure.report import Recommendation, Standing, plain_answer, recommendation_text
from normhub.norms.models import Norm

_TIMELINE = DirectStatement(
    facts.ledger_events().order_by(ExposureEvent.id.desc()).limit(bindparam("limit", type_=Integer))
)


# -- For lists: the same definition as SQL over summary rows ---------------------------


def not_exposed(last_material, period=None, instant: datetime | None = None):
    """SQL: the outer-joined summary row does not show its member exposed to the current text.

    ``period``: the re-read period (``ageing.period_sql`` over the norm's and its
    community's columns, or a number; None: none asked), so a reading stale by age at
    ``instant`` (default now) does not count either.
    """
    return or_(
        ExposureSummary.user_id.is_(None),
        ExposureSummary.material_base < last_material,
        ExposureSummary.level < EXPOSED,
        stale_by_age_sql(ExposureSummary.level_at, period, instant or utcnow()),
    )


def reading_state(
    summary: ExposureSummary | None,
    last_material: int,
    period: int | None = None,
    instant: datetime | None = None,
) -> str:
    """Where a summary row leaves its member, in the terms the recommendations use.

    "exposed" (read or better on the current text), "reread" (so, but that
    reading is older than the re-read ``period`` at ``instant``, default now),
    "changed" (read an earlier text, and it has changed materially since),
    "not_opened" (never opened any version), or "not_read" (opened or was sent
    something, never read it).
    """
    if summary is None or summary.highest_level < OPENED:
        return "not_opened"
    if summary.material_base >= last_material and summary.level >= EXPOSED:
        if is_stale_by_age(summary.level_at, period, instant or utcnow()):
            return "reread"
        return "exposed"
    return "changed" if summary.highest_level >= READ else "not_read"


def reading_states(session: Session, user: User, norms: list[Norm]) -> dict[int, str]:
    """``reading_state`` of ``user`` for each of ``norms`` (by id), in one query: the marks
    of a community's norm list. A norm they never met is "not_opened"."""
    if not norms:
        return {}
    summaries = {
        summary.norm_id: summary
        for summary in session.scalars(
            select(ExposureSummary).where(
                ExposureSummary.user_id == user.id,
                ExposureSummary.norm_id.in_([norm.id for norm in norms]),
            )
        )
    }
    now = utcnow()
    return {
        norm.id: reading_state(
            summaries.get(norm.id), norm.last_material_version_number, period_of(norm), now
        )
        for norm in norms
    }


# -- For one person ----------------------------------------------------------------------


def _ledger_part(norm, subject, state: NormState, row, as_of) -> Standing:
    has_summary = row.level is not None
    level = row.level if has_summary else NONE
    stale = has_summary and level > NONE and row.material_base < state.last_material_version_number
    result = Standing(
        subject=subject,
        norm=norm,
        level=LEVELS[level],
        level_version=row.level_version,
        latest_version_seen=row.latest_version,
        current_version=state.current_version_number,
        stale=stale,
        is_member=row.membership_id is not None and row.left_at is None,
        left_community=row.membership_id is not None and row.left_at is not None,
        left_at=row.left_at,
        highest_level=LEVELS[row.highest_level] if has_summary else "none",
        highest_level_version=row.highest_level_version,
        first_seen_at=row.first_seen_at,
        level_at=row.level_at,
        last_seen_at=row.last_seen_at,
        norm_status=state.status,
        in_force_since=state.in_force_since,
        in_force_version=state.current_version_number if state.status == "in_force" else None,
        pending_version=state.pending_version_number,
        authored_by_subject=state.author_id is not None and state.author_id == subject.id,
        as_of=as_of,
    )
    # Reading on the newest text seen is the newest reading; otherwise the
    # facts looked it up (when there was one at all).
    result.newest_read_version = row.level_version if level >= READ else row.newest_read
    highest_version = row.highest_level_version or 0
    if level < READ and row.newest_read and row.newest_read > highest_version:
        result.later_engagement.append(("read", row.newest_read))
    if level > NONE and (row.level_version or 0) > highest_version:
        result.later_engagement.append((LEVELS[level], row.level_version))
    return result


def _add_changes(db, result: Standing, state: NormState) -> None:
    """Material changes since the newest reading, and (today's field) since the newest text seen."""
    last_material = state.last_material_version_number
    bounds = []
    if result.newest_read_version is not None and result.newest_read_version < last_material:
        bounds.append(result.newest_read_version)
    if result.stale:
        bounds.append(result.latest_version_seen)
    if not bounds:
        return
    changes = facts.material_changes(db, result.norm.id, min(bounds), state.current_version_number)
    if result.newest_read_version is not None:
        result.changes_since_read = [c for c in changes if c["number"] > result.newest_read_version]
    if result.stale:
        result.material_changes_since = [
            c for c in changes if c["number"] > result.latest_version_seen
        ]


def _add_response(result: Standing, rows: list, state: NormState) -> None:
    first = rows[0]
    if first.response_id is None:
        return
    result.understood = first.understood
    result.endorsement = first.endorsement
    result.response_version = first.response_version
    result.response_at = first.response_at
    result.response_is_current = first.response_version >= state.last_material_version_number
    for row in rows:
        if row.position is None:
            continue  # a response without assumption answers
        item = {
            "position": row.position,
            "statement": row.statement,
            "understood": row.assumption_understood,
            "agreement": row.agreement,
            "reason": row.reason,
            "version": row.response_version,
        }
        result.assumption_answers.append(item)
        if row.agreement == "disagree" and result.response_is_current:
            result.rejected_assumptions.append(
                {k: item[k] for k in ("position", "statement", "reason")}
            )


def _add_ageing(result: Standing, row, instant: datetime) -> None:
    """How old their reading of the current text is, against the period asked for."""
    period = reread_period(row.norm_reread_months, row.community_reread_months)
    result.reread_months = period
    if period:
        result.reread_asked_by = "norm" if row.norm_reread_months else "community"
    if LEVEL_RANK[result.current_level] >= READ and result.level_at is not None:
        result.months_since_read = months_between(result.level_at, instant)
        result.stale_by_age = is_stale_by_age(result.level_at, period, instant)


def recommend(result: Standing, state: NormState) -> str:
    """The one next step; the first row that matches wins (the codes are part of the API)."""
    if not result.is_member:
        return "not_member"
    if state.status != "in_force" or state.current_version_number == 0:
        return "not_in_force"
    if LEVEL_RANK[result.highest_level] < OPENED:
        return "share_norm"
    newest_read = result.newest_read_version
    if newest_read is not None and newest_read < state.last_material_version_number:
        return "share_changes"
    current = LEVEL_RANK[result.current_level]
    if current < READ:
        return "remind"
    if result.stale_by_age:
        return "ask_reread"
    if current == READ:
        return "ask_understanding"
    if result.response_is_current and (
        result.endorsement == "reject" or result.rejected_assumptions
    ):
        return "discuss_assumptions"
    if result.unmet_prerequisites:
        return "unmet_prerequisites"
    return "fair_to_hold"


def standing(
    db: Session | DirectConnection,
    norm: Norm,
    subject: User,
    *,
    as_of: datetime | None = None,
    timeline_limit: int = 0,
    fact_rows: list | None = None,
) -> Standing:
    """Where ``subject`` stands with ``norm``: now, or as of an earlier instant.

    Now: one query for membership, summary and latest response; the versions
    since their newest reading only when it is older than the current text;
    the prerequisite closure only when the norm builds on other norms; and a
    bounded timeline only when asked for. ``as_of``: what the ledger held at
    that instant (events, versions, status, membership and response with a
    time at or before it), worked out by the same rules. While a material
    revision of a norm in force waits for the gate, the answer is about the
    version in force: what the subject is bound by.

    ``norm`` and ``subject`` may be ORM objects or the plain values the API
    resolves (``normhub.norms.refs.NormRef`` / ``PersonRef``): only their
    columns are read, never a relationship. ``fact_rows`` are the rows of a
    query built with ``facts.with_check_facts``, when the caller fetched them.
    """
    state = NormState.now(norm)
    if as_of is None and state.pending_version_number is None:
        rows = fact_rows or facts.CHECK_FACTS.all(
            db,
            {"subject_id": subject.id, "norm_id": norm.id, "community_id": norm.community_id},
        )
        events = None
    else:
        # The past, or a norm in force whose revision waits for the gate: the
        # summary rows know only the newest text, the ledger knows the rest.
        state, rows, events = history.replay(db, norm, subject, as_of or utcnow())
    result = _ledger_part(norm, subject, state, rows[0], as_of)
    _add_ageing(result, rows[0], as_of or utcnow())
    _add_changes(db, result, state)
    _add_response(result, rows, state)
    if rows[0].builds_on:
        result.unmet_prerequisites = (
            facts.unmet_prerequisites(db, norm, subject)
            if as_of is None
            else history.unmet_prerequisites(db, norm, subject, as_of)
        )
    if timeline_limit:
        result.timeline = (
            _TIMELINE.all(
                db, {"subject_id": subject.id, "norm_id": norm.id, "limit": timeline_limit}
            )
            if events is None
            else history.timeline(events, timeline_limit)
        )
    result.fully_exposed = (
        result.is_member
        and LEVEL_RANK[result.current_level] >= EXPOSED
        and not result.stale_by_age
        and not result.unmet_prerequisites
    )
    code = recommend(result, state)
    result.recommendation = Recommendation(code, recommendation_text(code, result))
    result.answer = plain_answer(result)
    return result
