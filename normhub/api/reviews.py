"""The reviews API: a norm's review rounds, one round's tallies, and answering a round
(joins the API blueprint). Visibility is the norm's: a members-only community's rounds
are a 404 to outsiders."""

from __future__ import annotations

from flask import g, jsonify, request

from normhub.api import services as api_services
from normhub.api.bearer import require_api_caller
from normhub.api.views import API_PREFIX, bp
from normhub.communities.services import get_visible_community
from normhub.db import begin_write, get_session, utc_iso
from normhub.errors import Forbidden, ValidationFailed
from normhub.ids import parse_id
from normhub.norms.services import get_norm
from normhub.reviews import services
from normhub.reviews.models import NormReview
from normhub.urls import absolute_url

NORM_REVIEWS = f"{API_PREFIX}/communities/<community_slug>/norms/<norm_ref>/reviews"
BAD_BODY = (
    'Send a JSON object: {"worked": "held"|"failed"|"unclear", "evidence": "…", '
    '"assumptions": [{"id": 12, "outcome": "held"|"failed"|"unclear", "evidence": "…"}]}.'
)


def _norm(session, caller, community_slug: str, norm_ref: str):
    community = get_visible_community(session, community_slug, caller)
    return get_norm(session, community, norm_ref)


def _touch_token(session) -> None:
    token = g.get("api_token")
    if token is not None and api_services.needs_touch(token):
        begin_write(session)
        api_services.touch_token(session, token)
        session.commit()


def review_json(norm, review: NormReview) -> dict:
    return {
        "id": review.id,
        "version": review.version_number,
        "opened_at": utc_iso(review.opened_at),
        "due_at": utc_iso(review.due_at),
        "closed_at": utc_iso(review.closed_at),
        "outcome": review.outcome,
        "decision_note": review.decision_note,
        "revised_in_version": review.revised_in_version,
        "url": absolute_url(
            "reviews.show", slug=norm.community.slug, norm_ref=norm.slug, review_id=review.id
        ),
    }


def _counts_json(counts: services.Counts) -> dict:
    return {
        "held": counts.held,
        "failed": counts.failed,
        "unclear": counts.unclear,
        "verdict": counts.verdict,
    }


def _tallies_json(session, review: NormReview, caller) -> dict | None:
    """Counts for whoever the review page shows them to (decided; decider; answered)."""
    own = services.own_answer(session, review, caller)
    if review.is_open and own is None and not services.may_decide(session, review.norm, caller):
        return None
    counted = services.tallies(session, review)
    return {
        "worked": _counts_json(counted.worked),
        "assumptions": [
            {
                "id": assumption.id,
                "number": assumption.position,
                "statement": assumption.statement,
                **_counts_json(counts),
            }
            for assumption, counts in counted.assumptions
        ],
    }


@bp.get(NORM_REVIEWS)
def list_reviews(community_slug: str, norm_ref: str):
    session = get_session()
    caller = require_api_caller()
    norm = _norm(session, caller, community_slug, norm_ref)
    document = {
        "norm": {"slug": norm.slug, "title": norm.title, "status": norm.status},
        "reviews": [review_json(norm, r) for r in services.list_reviews(session, norm)],
    }
    _touch_token(session)
    return jsonify(document)


@bp.get(f"{NORM_REVIEWS}/<id:review_id>")
def get_review(community_slug: str, norm_ref: str, review_id: int):
    session = get_session()
    caller = require_api_caller()
    norm = _norm(session, caller, community_slug, norm_ref)
    review = services.get_review(session, norm, review_id)
    document = review_json(norm, review)
    document["tallies"] = _tallies_json(session, review, caller)
    _touch_token(session)
    return jsonify(document)


def _verdicts(body: dict) -> list[services.AssumptionVerdict]:
    rows = body.get("assumptions", [])
    if not isinstance(rows, list) or len(rows) > 100:
        raise ValidationFailed(BAD_BODY)
    verdicts = []
    for row in rows:
        if not isinstance(row, dict):
            raise ValidationFailed(BAD_BODY)
        assumption_id = parse_id(str(row.get("id", "")))
        outcome, evidence = row.get("outcome"), row.get("evidence", "")
        if assumption_id is None or not isinstance(outcome, str) or not isinstance(evidence, str):
            raise ValidationFailed(BAD_BODY)
        verdicts.append(services.AssumptionVerdict(assumption_id, outcome, evidence))
    return verdicts


@bp.post(f"{NORM_REVIEWS}/<id:review_id>/answer")
def answer_review(community_slug: str, norm_ref: str, review_id: int):
    session = get_session()
    caller = require_api_caller()
    norm = _norm(session, caller, community_slug, norm_ref)
    review = services.get_review(session, norm, review_id)
    if review.is_open and not services.can_answer(session, review, caller):
        raise Forbidden("Only members of this community can answer its reviews.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed(BAD_BODY)
    worked, evidence = body.get("worked"), body.get("evidence", "")
    if not isinstance(worked, str) or not isinstance(evidence, str):
        raise ValidationFailed(BAD_BODY)
    answer = services.record_answer(session, review, caller, worked, evidence, _verdicts(body))
    document = {
        "review": review_json(norm, review),
        "answer": {
            "worked": answer.worked,
            "evidence": answer.evidence,
            "answered_at": utc_iso(answer.answered_at),
            "assumptions": [
                {"id": a.assumption_id, "outcome": a.outcome, "evidence": a.evidence}
                for a in answer.assumption_answers
            ],
        },
    }
    session.commit()
    return jsonify(document)
