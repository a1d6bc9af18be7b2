"""Who may see and do what with reviews: outsiders of a members-only community find
nothing (404, pages and API), members answer, only the author or a steward decides,
first answers are not anchored by the crowd's, and every form needs its CSRF token."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from normhub.api.services import create_token
from normhub.reviews.models import NormReview, ReviewAnswer
from normhub.reviews.services import reviewed_version
from tests.conftest import login, new_client
from tests.review_helpers import answer_form, open_review_now, review_url, review_world


def bearer(session, user) -> dict:
    _, secret = create_token(session, user, "tests")
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def api_base(world) -> str:
    return f"/api/v1/communities/{world.community.slug}/norms/{world.norm.slug}/reviews"


def test_an_outsider_finds_no_review_of_a_members_only_community(app, session, factory):
    world = review_world(session, factory, visibility="members")
    review = open_review_now(session, world)
    version = reviewed_version(session, review)
    base = f"/c/{world.community.slug}"
    pages = [
        ("GET", review_url(world, review), None),
        ("POST", review_url(world, review, "/answer"), answer_form(version, "held")),
        ("POST", review_url(world, review, "/decide"), {"outcome": "kept"}),
        ("POST", f"{base}/norms/{world.norm.slug}/review-period", {"period_days": "30"}),
        ("GET", f"{base}/review-settings", None),
        ("POST", f"{base}/review-settings", {"period_days": "30"}),
    ]
    anonymous = new_client(app, session)
    outsider = login(new_client(app, session), world.outsider)
    for client in (anonymous, outsider):
        for method, url, data in pages:
            response = client.open(url, method=method, data=data)
            assert response.status_code == 404, (method, url, response.status_code)
            assert world.norm.title not in response.get_data(as_text=True)
    headers = bearer(session, world.outsider)
    for method, url, body in [
        ("GET", api_base(world), None),
        ("GET", f"{api_base(world)}/{review.id}", None),
        ("POST", f"{api_base(world)}/{review.id}/answer", {"worked": "held"}),
    ]:
        response = anonymous.open(url, method=method, json=body, headers=headers)
        assert response.status_code == 404, (method, url)
        assert world.norm.title not in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ReviewAnswer)) == 0
    assert session.get(NormReview, review.id).outcome is None


def test_a_member_who_is_not_author_or_steward_cannot_decide(app, session, factory):
    world = review_world(session, factory, visibility="members")
    review = open_review_now(session, world)
    ana = login(new_client(app, session), world.ana)
    page = ana.get(review_url(world, review)).get_data(as_text=True)
    assert 'id="decide"' not in page
    assert (
        ana.post(review_url(world, review, "/decide"), data={"outcome": "kept"}).status_code == 403
    )
    norm_page = f"/c/{world.community.slug}/norms/{world.norm.slug}"
    assert ana.post(f"{norm_page}/review-period", data={"period_days": "30"}).status_code == 403
    assert ana.get(f"/c/{world.community.slug}/review-settings").status_code == 403
    session.expire_all()
    assert session.get(NormReview, review.id).outcome is None


def test_counts_and_evidence_wait_for_ones_own_answer(app, session, factory):
    world = review_world(session, factory, visibility="members")
    review = open_review_now(session, world)
    version = reviewed_version(session, review)
    ben = login(new_client(app, session), world.ben)
    ben.post(
        review_url(world, review, "/answer"),
        data=answer_form(version, "failed", "Nothing was posted in March."),
    )
    ana = login(new_client(app, session), world.ana)
    page = ana.get(review_url(world, review)).get_data(as_text=True)
    assert "The counts show once you have answered" in page
    assert "Nothing was posted in March." not in page
    ana.post(review_url(world, review, "/answer"), data=answer_form(version, "held"))
    page = ana.get(review_url(world, review)).get_data(as_text=True)
    assert "(1 worked, 1 failed, 0 unclear)" in page
    # Evidence is for those who decide, and never with a name.
    assert "Nothing was posted in March." not in page
    author_page = (
        login(new_client(app, session), world.author)
        .get(review_url(world, review))
        .get_data(as_text=True)
    )
    assert "Nothing was posted in March." in author_page and "Ben Answer" not in author_page


def test_the_api_lists_rounds_gives_tallies_and_takes_answers(app, session, factory):
    world = review_world(session, factory, visibility="members")
    review = open_review_now(session, world)
    version = reviewed_version(session, review)
    client = new_client(app, session)
    ana, newcomer = bearer(session, world.ana), bearer(session, world.newcomer)
    listed = client.get(api_base(world), headers=ana).get_json()
    assert [r["id"] for r in listed["reviews"]] == [review.id]
    assert listed["reviews"][0]["outcome"] is None
    assert client.get(f"{api_base(world)}/{review.id}", headers=ana).get_json()["tallies"] is None
    second = version.assumptions[1]
    body = {
        "worked": "held",
        "evidence": "Posted every week.",
        "assumptions": [
            {"id": second.id, "outcome": "failed", "evidence": "Objections came late."}
        ],
    }
    answered = client.post(f"{api_base(world)}/{review.id}/answer", json=body, headers=ana)
    assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["answer"]["assumptions"] == [
        {"id": second.id, "outcome": "failed", "evidence": "Objections came late."}
    ]
    tallies = client.get(f"{api_base(world)}/{review.id}", headers=ana).get_json()["tallies"]
    assert tallies["worked"] == {"held": 1, "failed": 0, "unclear": 0, "verdict": "held"}
    assert tallies["assumptions"][1]["failed"] == 1
    assert tallies["assumptions"][1]["verdict"] == "failed"
    # Any member may answer, the one not asked too; bad input is a clear 400.
    bad = client.post(
        f"{api_base(world)}/{review.id}/answer", json={"worked": "great"}, headers=newcomer
    )
    assert bad.status_code == 400
    assert "worked, failed or is unclear" in bad.get_json()["error"]["message"]
    foreign = client.post(
        f"{api_base(world)}/{review.id}/answer",
        json={"worked": "held", "assumptions": [{"id": 999999, "outcome": "held"}]},
        headers=newcomer,
    )
    assert foreign.status_code == 400
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ReviewAnswer)) == 1


class TestCsrf:
    @pytest.fixture
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_answer_and_decide_need_the_forms_token(self, app, session, factory):
        world = review_world(session, factory)
        review = open_review_now(session, world)
        version = reviewed_version(session, review)
        client = new_client(app, session)
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post(
            "/login",
            data={
                "email": world.steward.email,
                "password": "correct horse battery",
                "csrf_token": token,
            },
        )
        answer = client.post(review_url(world, review, "/answer"), data=answer_form(version))
        decide = client.post(review_url(world, review, "/decide"), data={"outcome": "kept"})
        assert answer.status_code == decide.status_code == 400
        assert "Your form expired" in decide.get_data(as_text=True)
        page = client.get(review_url(world, review)).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        sent = client.post(
            review_url(world, review, "/decide"), data={"outcome": "kept", "csrf_token": token}
        )
        assert sent.status_code == 302
        session.expire_all()
        assert session.scalar(select(func.count()).select_from(ReviewAnswer)) == 0
        assert session.get(NormReview, review.id).outcome == "kept"
