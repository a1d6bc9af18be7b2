"""A community with a norm in force and members who responded to it, for the review tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from normhub.db import utcnow
from normhub.norms.services import AssumptionInput, change_status
from normhub.responses.services import record_response
from normhub.reviews.schedule import open_due_reviews
from tests.factories import Factory

ASSUMPTIONS = [
    AssumptionInput("Members read the channel at least weekly."),
    AssumptionInput("A quiet hour after meetings is enough time to object."),
]


@dataclass
class ReviewWorld:
    community: object
    norm: object
    author: object
    steward: object
    ana: object  # responded
    ben: object  # responded
    newcomer: object  # a member who did not respond
    outsider: object  # in no community


def review_world(session, factory: Factory, *, visibility: str = "public") -> ReviewWorld:
    """A norm put in force through the status change (so its review date is set), with
    two members who responded to it."""
    community = factory.community(
        visibility=visibility, coverage_threshold_pct=0, coverage_min_responses=0
    )
    author = factory.member(community, name="Ada Author")
    steward = factory.member(community, name="Stella Steward", role="steward")
    ana = factory.member(community, name="Ana Answer")
    ben = factory.member(community, name="Ben Answer")
    newcomer = factory.member(community, name="Nia Newcomer")
    outsider = factory.user("Otto Outsider")
    norm = factory.norm(
        community, author, title="Post decisions in the channel", assumptions=ASSUMPTIONS
    )
    for person in (ana, ben):
        record_response(session, norm, person, "yes", "endorse")
    change_status(session, norm, steward, "in_force")
    session.commit()
    return ReviewWorld(community, norm, author, steward, ana, ben, newcomer, outsider)


def open_review_now(session, world: ReviewWorld):
    """Run the periodic job as if the review date had come; the round it opened."""
    opened = open_due_reviews(session, utcnow() + timedelta(days=400))
    session.commit()
    (review,) = [r for r in opened if r.norm_id == world.norm.id]
    return review


def review_url(world: ReviewWorld, review, suffix: str = "") -> str:
    return f"/c/{world.community.slug}/norms/{world.norm.slug}/reviews/{review.id}{suffix}"


def answer_form(version, worked="held", evidence="", rows=None) -> dict:
    """The answer form's fields; ``rows``: position index -> (outcome, evidence)."""
    data = {"worked": worked, "evidence": evidence}
    for index, assumption in enumerate(version.assumptions):
        data[f"assumptions-{index}-assumption_id"] = str(assumption.id)
        if rows and index in rows:
            data[f"assumptions-{index}-outcome"], data[f"assumptions-{index}-evidence"] = rows[
                index
            ]
    return {k: v for k, v in data.items() if v is not None}
