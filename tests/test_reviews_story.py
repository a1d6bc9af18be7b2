"""A norm in force is reviewed: its date, the round opening, the members asked, their
answers, and each outcome (kept, revise, retire) recorded on the norm."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from normhub.accounts.data_export import export
from normhub.accounts.deletion import delete_account
from normhub.db import utcnow
from normhub.jobs.queue import EXTENSION
from normhub.norms.models import Norm, StatusChange
from normhub.norms.services import AssumptionInput, revise_norm
from normhub.notifications.models import Notification
from normhub.reviews.models import (
    CommunityReviewSetting,
    NormReview,
    NormReviewSchedule,
    ReviewAnswer,
    ReviewAssumptionResult,
)
from normhub.reviews.schedule import open_due, open_due_reviews
from normhub.reviews.services import reviewed_version
from tests.conftest import login, new_client
from tests.factories import Factory
from tests.review_helpers import answer_form, open_review_now, review_url, review_world


def notices(session, kind: str) -> dict[int, list[str]]:
    session.expire_all()
    found: dict[int, list[str]] = {}
    for row in session.scalars(select(Notification).where(Notification.kind == kind)):
        found.setdefault(row.user_id, []).append(row.summary)
    return found


def client_for(app, session, user):
    return login(new_client(app, session), user)


def test_coming_into_force_sets_the_review_date(session, factory):
    world = review_world(session, factory)
    schedule = session.get(NormReviewSchedule, world.norm.id)
    expected = utcnow() + timedelta(days=90)
    assert abs((schedule.next_review_at - expected).total_seconds()) < 60
    assert schedule.period_days is None


def test_a_community_period_and_a_norms_own_period(app, session, factory):
    world = review_world(session, factory)
    steward = client_for(app, session, world.steward)
    settings_url = f"/c/{world.community.slug}/review-settings"
    page = steward.get(settings_url).get_data(as_text=True)
    assert 'value="90"' in page
    refused = steward.post(settings_url, data={"period_days": "3"})
    assert refused.status_code == 400
    assert "whole number of days from 7 to 1095" in refused.get_data(as_text=True)
    assert steward.post(settings_url, data={"period_days": "30"}).status_code == 302
    assert session.get(CommunityReviewSetting, world.community.id).period_days == 30

    norm_url = f"/c/{world.community.slug}/norms/{world.norm.slug}"
    response = steward.post(f"{norm_url}/review-period", data={"period_days": "120"})
    assert response.status_code == 302
    session.expire_all()
    schedule = session.get(NormReviewSchedule, world.norm.id)
    assert schedule.period_days == 120
    # The date already set moves: one new period from now.
    expected = utcnow() + timedelta(days=120)
    assert abs((schedule.next_review_at - expected).total_seconds()) < 60
    page = steward.get(norm_url).get_data(as_text=True)
    assert "every 120 days" in page and 'id="review"' in page


def test_a_due_review_asks_those_who_responded(app, session, factory):
    world = review_world(session, factory)
    assert open_due_reviews(session, utcnow()) == []  # not due yet
    review = open_review_now(session, world)
    assert review.version_number == world.norm.in_force_version_number == 1
    assert session.get(NormReviewSchedule, world.norm.id).next_review_at is None
    asked = notices(session, "review")
    assert set(asked) == {world.ana.id, world.ben.id}
    assert "is up for review" in asked[world.ana.id][0]
    # Running the job again opens nothing more.
    assert open_due_reviews(session, utcnow() + timedelta(days=900)) == []

    ana = client_for(app, session, world.ana)
    preview = ana.get("/settings/digest/preview").get_data(as_text=True)
    assert "Reviews waiting for you" in preview and world.norm.title in preview
    norm_page = ana.get(f"/c/{world.community.slug}/norms/{world.norm.slug}")
    assert "Answer the review" in norm_page.get_data(as_text=True)
    version = reviewed_version(session, review)
    ana.post(review_url(world, review, "/answer"), data=answer_form(version, "held"))
    preview = ana.get("/settings/digest/preview").get_data(as_text=True)
    assert "Reviews waiting for you" not in preview


def _answer_both(app, session, world, review):
    version = reviewed_version(session, review)
    ana = client_for(app, session, world.ana)
    first = ana.post(
        review_url(world, review, "/answer"),
        data=answer_form(version, "held", "Decisions were all posted.", {0: ("held", "")}),
    )
    assert first.status_code == 302
    # Changed while the round is open: the second answer replaces the first.
    again = ana.post(
        review_url(world, review, "/answer"),
        data=answer_form(
            version,
            "held",
            "Decisions were all posted.",
            {0: ("held", ""), 1: ("failed", "Two objections came a day late.")},
        ),
    )
    assert again.status_code == 302
    ben = client_for(app, session, world.ben)
    ben.post(
        review_url(world, review, "/answer"),
        data=answer_form(version, "unclear", "", {1: ("failed", "Nobody saw the hour end.")}),
    )
    assert session.scalar(select(func.count()).select_from(ReviewAnswer)) == 2
    return version


def test_kept_records_the_outcome_per_assumption_and_sets_the_next_date(app, session, factory):
    world = review_world(session, factory)
    review = open_review_now(session, world)
    version = _answer_both(app, session, world, review)
    author = client_for(app, session, world.author)
    assert notices(session, "review_answers")[world.author.id] == [
        f"2 answers to the review of “{world.norm.title}”"
    ]
    page = author.get(review_url(world, review)).get_data(as_text=True)
    assert "Two objections came a day late." in page  # evidence, for the deciders
    assert "Ana Answer" not in page  # without names
    assert 'value="retire"' not in page  # the author cannot retire

    steward = client_for(app, session, world.steward)
    response = steward.post(
        review_url(world, review, "/decide"), data={"outcome": "kept", "note": "Keep it."}
    )
    assert response.status_code == 302
    session.expire_all()
    review = session.get(NormReview, review.id)
    assert (review.outcome, review.decided_by_id, review.decision_note) == (
        "kept",
        world.steward.id,
        "Keep it.",
    )
    assert (review.worked_held, review.worked_failed, review.worked_unclear) == (1, 0, 1)
    results = {
        r.assumption_id: (r.held, r.failed, r.unclear, r.verdict)
        for r in session.scalars(select(ReviewAssumptionResult))
    }
    first, second = version.assumptions
    assert results == {first.id: (1, 0, 0, "held"), second.id: (0, 2, 0, "failed")}
    schedule = session.get(NormReviewSchedule, world.norm.id)
    assert abs((schedule.next_review_at - utcnow() - timedelta(days=90)).total_seconds()) < 60
    told = notices(session, "reviewed")
    assert set(told) == {world.ana.id, world.ben.id, world.author.id}
    assert told[world.ana.id] == [
        f"The review of “{world.norm.title}” you answered is decided: kept"
    ]

    norm_page = new_client(app, session).get(f"/c/{world.community.slug}/norms/{world.norm.slug}")
    html = norm_page.get_data(as_text=True)
    assert '<strong id="review-last-outcome">Kept</strong>' in html
    assert "A quiet hour after meetings is enough time to object.: " in html
    assert "<strong>failed</strong> (0 held, 2 failed, 0 unclear)" in html
    # A decided round takes no more answers.
    late = client_for(app, session, world.newcomer).post(
        review_url(world, review, "/answer"), data=answer_form(version, "held")
    )
    assert late.status_code == 302
    assert session.scalar(select(func.count()).select_from(ReviewAnswer)) == 2


def test_revise_asks_the_author_for_a_new_version(app, session, factory):
    world = review_world(session, factory)
    review = open_review_now(session, world)
    _answer_both(app, session, world, review)
    steward = client_for(app, session, world.steward)
    response = steward.post(review_url(world, review, "/decide"), data={"outcome": "revise"})
    assert response.status_code == 302
    author = client_for(app, session, world.author)
    told = notices(session, "reviewed")
    assert told[world.author.id] == [
        f"The review of “{world.norm.title}”, which you wrote, asks you to revise it"
    ]
    page = author.get(f"/c/{world.community.slug}/norms/{world.norm.slug}").get_data(as_text=True)
    assert "The review asks for a revision." in page and "Draft the revision" in page
    norm = session.get(Norm, world.norm.id)
    revise_norm(
        session,
        norm,
        world.author,
        factory.draft(
            title=norm.title,
            assumptions=[AssumptionInput("Two days are enough time to object.")],
        ),
        "The quiet hour assumption failed: objections now have two days.",
        True,
    )
    session.commit()
    session.expire_all()
    assert session.get(NormReview, review.id).revised_in_version == 2
    page = author.get(f"/c/{world.community.slug}/norms/{world.norm.slug}").get_data(as_text=True)
    assert "The review asks for a revision." not in page


def test_retire_is_a_stewards_and_retires_the_norm(app, session, factory):
    world = review_world(session, factory)
    review = open_review_now(session, world)
    author = client_for(app, session, world.author)
    refused = author.post(review_url(world, review, "/decide"), data={"outcome": "retire"})
    assert refused.status_code == 400
    assert "Only a steward can retire a norm." in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(NormReview, review.id).outcome is None

    steward = client_for(app, session, world.steward)
    steward.post(review_url(world, review, "/decide"), data={"outcome": "retire"})
    session.expire_all()
    assert session.get(Norm, world.norm.id).status == "retired"
    change = session.scalar(select(StatusChange).order_by(StatusChange.id.desc()))
    assert (change.from_status, change.to_status) == ("in_force", "retired")
    assert session.get(NormReviewSchedule, world.norm.id).next_review_at is None
    assert "is now retired" in notices(session, "status")[world.author.id][-1]


@pytest.mark.parametrize(
    ("evidence", "message"),
    [
        ("It worked\x07", "control character"),
        ("x" * 301, "at most 300 characters"),
    ],
)
def test_bad_evidence_is_refused_with_a_clear_message(app, session, factory, evidence, message):
    world = review_world(session, factory)
    review = open_review_now(session, world)
    version = reviewed_version(session, review)
    ana = client_for(app, session, world.ana)
    response = ana.post(
        review_url(world, review, "/answer"), data=answer_form(version, "held", evidence)
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(ReviewAnswer)) == 0


def test_an_answer_must_say_whether_it_worked(app, session, factory):
    world = review_world(session, factory)
    review = open_review_now(session, world)
    version = reviewed_version(session, review)
    ana = client_for(app, session, world.ana)
    response = ana.post(review_url(world, review, "/answer"), data=answer_form(version, None))
    assert response.status_code == 400
    assert "Say whether the norm worked" in response.get_data(as_text=True)


def test_a_members_answers_are_in_their_data_and_their_evidence_goes_on_request(
    app, session, factory
):
    world = review_world(session, factory)
    review = open_review_now(session, world)
    _answer_both(app, session, world, review)
    exported = export(session, world.ana)["review_answers"]
    assert exported[0]["worked"] == "held"
    assert exported[0]["assumptions"][1]["evidence"] == "Two objections came a day late."
    delete_account(session, world.ana, Factory.PASSWORD, remove_writing=True)
    session.commit()
    session.expire_all()
    answer = session.scalar(select(ReviewAnswer).where(ReviewAnswer.user_id == world.ana.id))
    assert answer.worked == "held" and answer.evidence == ""
    assert [a.evidence for a in answer.assumption_answers] == ["", ""]


def test_a_visitors_kept_norm_page_follows_the_review(app, session, factory):
    world = review_world(session, factory)
    visitor = new_client(app, session)
    norm_url = f"/c/{world.community.slug}/norms/{world.norm.slug}"
    assert "Next review:" in visitor.get(norm_url).get_data(as_text=True)
    review = open_review_now(session, world)
    assert "This norm is under review." in visitor.get(norm_url).get_data(as_text=True)
    steward = client_for(app, session, world.steward)
    steward.post(review_url(world, review, "/decide"), data={"outcome": "kept"})
    html = visitor.get(norm_url).get_data(as_text=True)
    assert '<strong id="review-last-outcome">Kept</strong>' in html
    assert "This norm is under review." not in html


def test_the_periodic_job_opens_the_rounds_that_are_due(app, session, factory):
    assert "reviews.open-due" in app.extensions[EXTENSION].job_names
    world = review_world(session, factory)
    session.get(NormReviewSchedule, world.norm.id).next_review_at = utcnow() - timedelta(hours=1)
    session.commit()
    open_due(session)  # as the worker runs it, in its own transaction
    session.commit()
    (review,) = session.scalars(select(NormReview))
    assert review.norm_id == world.norm.id and review.is_open
