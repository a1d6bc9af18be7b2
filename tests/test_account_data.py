"""The member's own data: the JSON download, and deleting the account.

Stories run through the real pages (test clients with their own cookie jars)
against the real database; rows are read back afresh after each request.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from normhub.accounts.deletion import delete_account
from normhub.accounts.models import FORMER_MEMBER_NAME, LoginSession, User
from normhub.api import services as api_services
from normhub.api.models import ApiToken
from normhub.communities.models import Membership
from normhub.db import utcnow
from normhub.digest.models import DigestPreference
from normhub.digest.sending import DigestRun
from normhub.discussion.models import Comment
from normhub.discussion.services import post_comment
from normhub.exposure.check import check_exposure, record_page_check
from normhub.exposure.models import (
    LEVEL_RANK,
    ExposureCheck,
    ExposureEvent,
    ExposureSummary,
    FormerMemberExposure,
)
from normhub.mail.queue import SENDING, SENT, QueuedEmail, queue_email
from normhub.responses.models import Response
from normhub.responses.services import aggregate_responses, record_response
from tests.conftest import login
from tests.factories import Factory
from tests.test_accounts_sessions import browser, copy_cookie


@pytest.fixture
def app_overrides(smtp):
    return smtp.settings()


@pytest.fixture
def world(factory, session):
    """Rosa writes, answers and comments in a members-only community; Sam checks her."""
    owner = factory.user("Olga Owner")
    community = factory.community(owner, visibility="members")
    rosa = factory.member(community, name="Rosa Reader")
    sam = factory.member(community, name="Sam Steward", role="steward")
    norm = factory.norm(community, owner, status="open", title="Say which figure you mean")
    own_norm = factory.norm(community, rosa, status="open", title="Name your sources")
    record_response(session, norm, rosa, "yes", "reject", reason="Rosa's own reason")
    comment = post_comment(session, norm, rosa, "Rosa's comment on the figures")
    post_comment(session, norm, sam, "Sam answers Rosa", parent=comment)
    report = check_exposure(session, norm, rosa)
    record_page_check(session, sam, rosa, norm, report, note="before the meeting")
    _, secret = api_services.create_token(session, rosa, "my script")
    session.commit()
    return {
        "community": community,
        "owner": owner,
        "rosa": rosa,
        "sam": sam,
        "norm": norm,
        "own_norm": own_norm,
        "comment_id": comment.id,
        "token": secret,
    }


def fresh(session, model, *where):
    session.rollback()
    return list(
        session.scalars(select(model).where(*where).execution_options(populate_existing=True))
    )


def delete(client, password=Factory.PASSWORD, **extra):
    return client.post("/settings/account/delete", data={"password": password, **extra})


# -- The download -----------------------------------------------------------------------


def test_download_holds_everything_about_the_member_and_nothing_secret(client, world):
    login(client, world["rosa"])
    response = client.get("/settings/account/data.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["display_name"] == "Rosa Reader"
    assert data["account"]["email"] == world["rosa"].email
    assert len(data["account"]["logins"]) == 1
    assert [m["community"]["slug"] for m in data["communities"]] == [world["community"].slug]
    assert [n["title"] for n in data["norms"]["proposed"]] == ["Name your sources"]
    assert data["norms"]["versions_written"][0]["body"].startswith("## Why")
    assert data["responses"][0]["reason"] == "Rosa's own reason"
    assert data["responses"][0]["endorsement"] == "reject"
    assert [c["body"] for c in data["comments"]] == ["Rosa's comment on the figures"]
    about = data["exposure"]["checks_about_you"]
    assert [(c["asked_by"], c["note"]) for c in about] == [("Sam Steward", "before the meeting")]
    assert data["exposure"]["checks_you_made"] == []
    kinds = {(e["norm"], e["what"]) for e in data["exposure"]["ledger"]}
    assert (world["norm"].slug, "responded") in kinds
    assert (world["own_norm"].slug, "authored") in kinds
    assert [t["name"] for t in data["api_tokens"]] == ["my script"]
    assert world["token"] not in response.get_data(as_text=True)
    assert "password" not in json.dumps(data["account"]).lower()


def test_download_needs_a_login(client):
    response = client.get("/settings/account/data.json")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_settings_page_leads_to_the_data_page(client, world):
    login(client, world["rosa"])
    assert 'href="/settings/account"' in client.get("/settings").get_data(as_text=True)
    page = client.get("/settings/account").get_data(as_text=True)
    assert 'href="/settings/account/data.json"' in page
    assert 'action="/settings/account/delete"' in page


# -- Deleting ---------------------------------------------------------------------------


def test_a_wrong_password_deletes_nothing(client, session, world):
    login(client, world["rosa"])
    response = delete(client, password="not my password at all")
    assert response.status_code == 400
    assert "That is not your password." in response.get_data(as_text=True)
    rosa = fresh(session, User, User.id == world["rosa"].id)[0]
    assert rosa.deleted_at is None and rosa.display_name == "Rosa Reader"


def test_deleting_erases_the_person_and_ends_every_login(app, client, session, world):
    login(client, world["rosa"])
    other_browser = browser(app, session)
    login(other_browser, world["rosa"])
    thief = browser(app, session)
    copy_cookie(client, thief)
    old_handle, old_email = world["rosa"].handle, world["rosa"].email

    response = delete(client)
    assert response.status_code == 303
    rosa = fresh(session, User, User.id == world["rosa"].id)[0]
    assert rosa.deleted_at is not None
    assert rosa.display_name == FORMER_MEMBER_NAME
    assert rosa.email.endswith("@deleted.invalid") and old_email not in rosa.email
    assert rosa.handle != old_handle and rosa.bio == "" and rosa.pending_email is None
    assert fresh(session, LoginSession, LoginSession.user_id == rosa.id) == []
    assert fresh(session, ApiToken, ApiToken.user_id == rosa.id) == []
    memberships = fresh(session, Membership, Membership.user_id == rosa.id)
    assert memberships and all(m.left_at is not None for m in memberships)

    # Every browser, and a copy of the cookie, is logged out; the password opens nothing.
    for each in (client, other_browser, thief):
        assert each.get("/settings").status_code == 302
    refused = client.post("/login", data={"email": old_email, "password": Factory.PASSWORD})
    assert refused.status_code == 400
    assert client.get(f"/members/{old_handle}").status_code == 404
    assert client.get(f"/members/{rosa.handle}").status_code == 404
    api = client.get("/api/v1/communities", headers={"Authorization": f"Bearer {world['token']}"})
    assert api.status_code == 401


def test_the_ledger_becomes_anonymous_counts_and_no_check_names_her(client, session, world):
    rosa_id, norm = world["rosa"].id, world["norm"]
    levels = dict(
        session.execute(
            select(ExposureSummary.norm_id, ExposureSummary.highest_level).where(
                ExposureSummary.user_id == rosa_id
            )
        ).all()
    )
    login(client, world["rosa"])
    assert delete(client).status_code == 303

    assert fresh(session, ExposureEvent, ExposureEvent.user_id == rosa_id) == []
    assert fresh(session, ExposureSummary, ExposureSummary.user_id == rosa_id) == []
    assert fresh(session, ExposureCheck, ExposureCheck.subject_id == rosa_id) == []
    counts = {(row.norm_id, row.level): row.members for row in fresh(session, FormerMemberExposure)}
    assert counts == {(norm_id, level): 1 for norm_id, level in levels.items()}
    # She understood and rejected: "understood" is as deep as she went.
    assert counts[(norm.id, LEVEL_RANK["understood"])] == 1

    # Sam, a steward, sees the count on the coverage page, and cannot check her again.
    login(client, world["sam"])
    base = f"/c/{norm.community.slug}/norms/{norm.slug}"
    page = client.get(f"{base}/coverage").get_data(as_text=True)
    assert 'id="former-members"' in page and "understood (1)" in page
    check = client.post(
        "/exposure/check",
        data={"community": norm.community.slug, "norm": norm.slug, "member": str(rosa_id)},
    )
    assert check.status_code == 404
    form = client.get(f"/exposure/check?community={norm.community.slug}").get_data(as_text=True)
    assert f'value="{rosa_id}"' not in form
    api = client.get(
        f"/api/v1/communities/{norm.community.slug}/norms/{norm.slug}/exposure/{rosa_id}"
    )
    assert api.status_code == 404


def test_writing_stays_under_a_former_member_unless_she_asks(client, session, world):
    norm = world["norm"]
    before = aggregate_responses(session, norm).endorsement["reject"]
    login(client, world["rosa"])
    assert delete(client).status_code == 303

    comment = fresh(session, Comment, Comment.id == world["comment_id"])[0]
    assert comment.body == "Rosa's comment on the figures" and not comment.is_hidden
    assert fresh(session, Response, Response.user_id == world["rosa"].id)[0].reason
    assert aggregate_responses(session, norm).endorsement["reject"] == before

    login(client, world["sam"])
    page = client.get(f"/c/{norm.community.slug}/norms/{norm.slug}").get_data(as_text=True)
    assert "Rosa Reader" not in page
    assert f'<span class="former-member comment-author">{FORMER_MEMBER_NAME}</span>' in page
    own = world["own_norm"]
    page = client.get(f"/c/{own.community.slug}/norms/{own.slug}").get_data(as_text=True)
    assert f'<span class="former-member">{FORMER_MEMBER_NAME}</span>' in page


def test_asking_for_removal_takes_down_comments_and_reasons(client, session, world):
    norm = world["norm"]
    before = aggregate_responses(session, norm)
    login(client, world["rosa"])
    assert delete(client, remove_writing="y").status_code == 303

    comment = fresh(session, Comment, Comment.id == world["comment_id"])[0]
    assert comment.body == "" and comment.is_removed_by_author
    response = fresh(session, Response, Response.user_id == world["rosa"].id)[0]
    assert response.reason == "" and response.endorsement == "reject"
    after = aggregate_responses(session, norm)
    assert after.respondents == before.respondents

    login(client, world["sam"])
    page = client.get(f"/c/{norm.community.slug}/norms/{norm.slug}").get_data(as_text=True)
    assert "Taken down by its author." in page
    assert "Rosa&#39;s comment" not in page and "Rosa's comment" not in page
    assert "Sam answers Rosa" in page  # the reply keeps its place
    assert f"/comments/{comment.id}/unhide" not in page  # nothing for a steward to restore


def test_the_only_admin_must_hand_over_first(client, session, factory, world):
    owner, community = world["owner"], world["community"]
    login(client, owner)
    response = delete(client)
    assert response.status_code == 400
    assert f"You are the only admin of {community.name}" in response.get_data(as_text=True)
    assert fresh(session, User, User.id == owner.id)[0].deleted_at is None
    assert fresh(session, Membership, Membership.user_id == owner.id)[0].left_at is None


def test_the_only_member_may_go(client, session, factory):
    alone = factory.user("Alone")
    factory.community(alone)
    login(client, alone)
    assert delete(client).status_code == 303
    assert fresh(session, User, User.id == alone.id)[0].is_deleted


def test_a_deleted_account_is_due_no_digest(app, session, world, smtp):
    with smtp:
        due_before = DigestRun(app, session, "weekly", smtp.transport()).count_due()
        delete_account(session, world["rosa"], Factory.PASSWORD)
        session.commit()
        due_after = DigestRun(app, session, "weekly", smtp.transport()).count_due()
    assert due_after == due_before - 1
    assert fresh(session, DigestPreference, DigestPreference.user_id == world["rosa"].id) == []


def test_mail_waiting_for_her_goes_with_the_account(session, world):
    """Nothing queued goes to someone who has left; no copy of sent mail keeps her address."""
    rosa, sam = world["rosa"], world["sam"]
    address = rosa.email
    waiting = queue_email(session, address, "Waiting", "text", None, "test-waiting")
    sent = queue_email(session, address, "Sent", "text", None, "test-sent")
    in_flight = queue_email(session, address, "In flight", "text", None, "test-in-flight")
    for_sam = queue_email(session, sam.email, "For Sam", "text", None, "test-other")
    sent.status, in_flight.status = SENT, SENDING
    session.commit()

    delete_account(session, rosa, Factory.PASSWORD)
    session.commit()

    left = {row.id for row in fresh(session, QueuedEmail)}
    assert waiting.id not in left and sent.id not in left
    # A worker is sending this one now; taking the row away would not unsend it.
    assert in_flight.id in left
    assert for_sam.id in left


def test_checks_name_only_people_who_are_or_were_members(client, session, factory, world):
    """An id from outside the community is no one: ids cannot be walked to learn names."""
    norm, sam = world["norm"], world["sam"]
    outsider = factory.user("Otto Outsider")
    factory.community(outsider)  # a member elsewhere only
    leaver = factory.member(world["community"], name="Lea Leaver")
    session.execute(
        Membership.__table__.update()
        .where(Membership.user_id == leaver.id)
        .values(left_at=utcnow())
    )
    login(client, sam)
    slug, base = norm.community.slug, f"/c/{norm.community.slug}/norms/{norm.slug}"
    api = f"/api/v1/communities/{slug}/norms/{norm.slug}/exposure"

    refused = client.get(f"{api}/{outsider.id}")
    assert refused.status_code == 404
    assert "Otto" not in refused.get_data(as_text=True)
    assert client.get(f"{api}/{leaver.id}").status_code == 200  # a former member still answers
    page = client.post(
        "/exposure/check", data={"community": slug, "norm": norm.slug, "member": str(outsider.id)}
    )
    assert page.status_code == 404 and "Otto" not in page.get_data(as_text=True)
    remind = client.get(f"{base}/remind?person={outsider.id}").get_data(as_text=True)
    assert "Otto" not in remind
    remind = client.get(f"{base}/remind?person={leaver.id}").get_data(as_text=True)
    assert "Lea Leaver is not a member" in remind
