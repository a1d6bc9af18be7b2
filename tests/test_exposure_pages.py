"""Exposure pages through the Flask test client: norm panel, read reports, check, coverage."""

from __future__ import annotations

import html
import re

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import func, select

from normhub.exposure.ledger import record_event
from normhub.exposure.models import ExposureCheck, ExposureEvent, ExposureSummary, Nudge
from tests.conftest import login


def drop_request_session() -> None:
    """Give the next request a session of its own, as every request has in production.

    The ``session`` fixture keeps an app context pushed, and Flask reuses it
    for the test client's requests, so they would all share ``flask.g`` and
    one database session (with stale objects and, on SQLite, a held lock).
    """
    request_session = g.pop("db_session", None)
    if request_session is not None:
        request_session.rollback()
        request_session.close()


class FreshSessionClient(FlaskClient):
    def open(self, *args, **kwargs):
        drop_request_session()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshSessionClient
    return app.test_client()


@pytest.fixture
def world(factory):
    community = factory.community()
    author = factory.member(community, name="Ada")
    charlie = factory.member(community, name="Charlie")
    norm = factory.norm(community, author)
    return community, author, charlie, norm


def norm_path(norm, suffix=""):
    return f"/c/{norm.community.slug}/norms/{norm.slug}{suffix}"


def read_form(page: str) -> dict:
    """The hidden fields of the "I have read this" form on a norm page."""
    form = re.search(r'<form[^>]*id="read-report"[^>]*>', page)
    assert form, "the read-report form is missing"
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', form.group(0)))
    return {k: html.unescape(v) for k, v in attrs.items()}


def peek(session, read):
    """Read what the requests wrote, in a transaction of its own.

    Ending it matters on SQLite: an open test transaction holds the write
    lock (BEGIN IMMEDIATE) and the next request would wait for it.
    """
    drop_request_session()
    session.rollback()
    try:
        return read()
    finally:
        session.commit()


def summary_of(session, user, norm):
    return peek(session, lambda: session.get(ExposureSummary, (user.id, norm.id)))


def count(session, *where):
    return peek(
        session,
        lambda: session.scalar(select(func.count()).select_from(ExposureEvent).where(*where)),
    )


def make_check(client, community, norm, person, **extra):
    """Check on the check page (POST): the redirect to the recorded check."""
    data = {"community": community.slug, "norm": norm.slug, "member": str(person.id), **extra}
    return client.post("/exposure/check", data=data)


def check_page(client, community, norm, person, **extra) -> str:
    made = make_check(client, community, norm, person, **extra)
    assert made.status_code == 303, made.get_data(as_text=True)[:500]
    return client.get(made.headers["Location"]).get_data(as_text=True)


def test_norm_page_records_opened_and_offers_read_button(client, session, world):
    _, _, charlie, norm = world
    anonymous = client.get(norm_path(norm))
    assert anonymous.status_code == 200
    assert 'id="read-report"' not in anonymous.get_data(as_text=True)
    assert count(session, ExposureEvent.kind != "authored") == 0

    login(client, charlie)
    page = client.get(norm_path(norm)).get_data(as_text=True)
    assert "I have read this" in page
    assert 'id="essay-end"' in page and "read-report.js" in page
    assert f'href="{norm_path(norm, "/coverage")}"' in page
    fields = read_form(page)
    assert fields["version"] == "1" and fields["url"] == norm_path(norm, "/read")
    assert summary_of(session, charlie, norm).level_name == "opened"
    # A reload a moment later adds no ledger row.
    client.get(norm_path(norm))
    assert count(session, ExposureEvent.user_id == charlie.id) == 1


def test_no_js_button_records_once_and_redirects(client, session, world):
    _, _, charlie, norm = world
    login(client, charlie)
    fields = read_form(client.get(norm_path(norm)).get_data(as_text=True))
    data = {"version": fields["version"], "token": fields["token"]}
    response = client.post(norm_path(norm, "/read"), data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(norm_path(norm) + "#exposure")
    assert summary_of(session, charlie, norm).level_name == "read"
    page = client.get(norm_path(norm)).get_data(as_text=True)
    assert "Noted that you read this version" in page
    assert 'id="read-report"' not in page  # already read: no button, no script
    again = client.post(norm_path(norm, "/read"), data=data, follow_redirects=True)
    assert "Nothing new to note" in again.get_data(as_text=True)
    assert count(session, ExposureEvent.kind == "read") == 1


def test_script_reports_get_204_and_bad_ones_are_ignored(client, session, factory, world):
    community, _, charlie, norm = world
    login(client, factory.member(community, name="Dana"))
    danas_token = read_form(client.get(norm_path(norm)).get_data(as_text=True))["token"]
    login(client, charlie)
    headers = {"X-Requested-With": "fetch"}
    for bad in (
        {"version": "1", "token": danas_token},  # someone else's token
        {"version": "1", "token": "forged"},
        {"version": "abc", "token": "forged"},
        {"version": "7"},
        {},
    ):
        response = client.post(norm_path(norm, "/read"), data=bad, headers=headers)
        assert response.status_code == 204
    assert summary_of(session, charlie, norm) is None or (
        summary_of(session, charlie, norm).level_name != "read"
    )
    fields = read_form(client.get(norm_path(norm)).get_data(as_text=True))
    response = client.post(
        norm_path(norm, "/read"),
        data={"version": fields["version"], "token": fields["token"]},
        headers=headers,
    )
    assert response.status_code == 204
    assert summary_of(session, charlie, norm).level_name == "read"


def test_check_page_answers_first_and_is_visible_to_the_subject(client, session, world):
    community, author, charlie, norm = world
    login(client, author)
    start = client.get("/exposure/check").get_data(as_text=True)
    assert community.name in start
    step = client.get(f"/exposure/check?community={community.slug}").get_data(as_text=True)
    assert norm.title in step and "Charlie" in step
    # A link may pre-fill the form; the GET records nothing, however often it is loaded.
    prefilled = f"/exposure/check?community={community.slug}&norm={norm.slug}&member={charlie.id}"
    for _ in range(3):
        form = client.get(prefilled).get_data(as_text=True)
        assert f'<option value="{charlie.id}" selected>Charlie</option>' in form
        assert 'id="check-answer"' not in form
    assert peek(session, lambda: session.scalar(select(func.count(ExposureCheck.id)))) == 0
    response = make_check(client, community, norm, charlie)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    answer = re.search(r'<p class="answer" id="check-answer">(.*?)</p>', page, re.S).group(1)
    assert html.unescape(answer) == (
        "This norm is open for discussion: nobody is bound by it yet. "
        "Charlie has never opened this norm. Discuss it with them, don't enforce it."
    )
    assert 'id="check-recommendation" data-code="not_in_force"' in page
    check = peek(session, lambda: session.scalar(select(ExposureCheck)))
    assert (check.checker_id, check.subject_id, check.norm_id) == (author.id, charlie.id, norm.id)

    # Reloading the record shows it again and records nothing more.
    client.get(response.headers["Location"])
    assert peek(session, lambda: session.scalar(select(func.count(ExposureCheck.id)))) == 1

    login(client, charlie)
    mine = html.unescape(client.get("/exposure/about-me").get_data(as_text=True))
    assert "Ada" in mine and norm.title in mine and "has never opened this norm" in mine
    assert "They were told: You haven't opened it yet." in mine
    login(client, author)
    assert "Nobody has checked on you yet" in client.get("/exposure/about-me").get_data(
        as_text=True
    )


def test_check_page_shows_stale_and_rejected_assumption(client, session, factory, world):
    from normhub.norms.services import revise_norm
    from normhub.responses.services import AssumptionAnswer, record_response

    community, author, charlie, norm = world
    a1, a2 = norm.current_version.assumptions
    record_response(
        session,
        norm,
        charlie,
        "yes",
        "endorse",
        answers={a2.id: AssumptionAnswer("yes", "disagree")},
    )
    session.commit()
    login(client, author)
    page = html.unescape(check_page(client, community, norm, charlie))
    assert f"They reject assumption 2 of version 1: “{a2.statement.rstrip('.')}”." in page
    revise_norm(session, norm, author, factory.draft(body="New reasoning."), "New reasoning.", True)
    session.commit()
    page = html.unescape(check_page(client, community, norm, charlie))
    assert "has changed materially since version 1 (now version 2): v2: New reasoning." in page
    assert "stale" in page


def test_check_page_links_unread_prerequisites_and_lists_the_timeline(
    client, session, factory, world
):
    from normhub.norms.services import set_prerequisites

    community, author, charlie, norm = world
    base = factory.norm(community, author, title="Say where a claim comes from")
    set_prerequisites(session, norm, author, [base])
    record_event(session, charlie, norm, 1, "opened")
    record_event(session, charlie, norm, 1, "read")
    session.commit()
    login(client, author)
    page = html.unescape(check_page(client, community, norm, charlie))
    link = f'<a href="{norm_path(base)}">Say where a claim comes from</a>'
    assert link in page
    assert client.get(norm_path(base)).status_code == 200
    timeline = page[page.index('<ol class="timeline"') :]
    assert timeline.index("read version 1") < timeline.index("opened version 1")


def test_check_requires_membership(client, factory, world):
    community, _, charlie, norm = world
    outsider = factory.user("Outsider")
    login(client, outsider)
    response = client.get(
        f"/exposure/check?community={community.slug}&norm={norm.slug}&member={charlie.id}"
    )
    assert response.status_code == 403
    assert make_check(client, community, norm, charlie).status_code == 403


def test_members_only_community_does_not_leak(client, session, factory):
    owner = factory.user("Owner")
    private = factory.community(owner, visibility="members", join_policy="invite")
    member = factory.member(private, name="Insider")
    norm = factory.norm(private, member, title="Secret norm")
    outsider = factory.user("Outsider")
    login(client, outsider)
    base = f"/c/{private.slug}/norms/{norm.slug}"
    for response in (
        client.get(f"/exposure/check?community={private.slug}"),
        client.get(f"/exposure/check?community={private.slug}&norm={norm.slug}&member={member.id}"),
        make_check(client, private, norm, member),
        client.get(f"{base}/coverage"),
        client.post(f"{base}/read", data={"version": "1", "token": "x"}),
        client.post(f"{base}/read", data={"version": "1"}, headers={"X-Requested-With": "fetch"}),
        client.post(f"{base}/nudge"),
        client.get(f"/queue?community={private.slug}"),
    ):
        assert response.status_code == 404
        assert "Secret norm" not in response.get_data(as_text=True)
    assert "Secret norm" not in client.get("/queue").get_data(as_text=True)
    assert peek(session, lambda: session.scalar(select(func.count(ExposureCheck.id)))) == 0


def test_coverage_page_and_nudge(client, session, factory, world):
    community, author, charlie, norm = world
    steward = factory.member(community, role="steward", name="Stella")
    record_event(session, author, norm, 1, "read")
    session.commit()
    login(client, charlie)
    page = client.get(norm_path(norm, "/coverage")).get_data(as_text=True)
    assert "of members understood the current version" in page
    assert "Nudge them" not in page and "Not yet exposed" not in page

    login(client, steward)
    page = client.get(norm_path(norm, "/coverage")).get_data(as_text=True)
    assert "Not yet exposed" in page and "Charlie" in page and "Nudge them" in page
    response = client.post(norm_path(norm, "/nudge"))
    assert response.status_code == 303
    nudged = peek(session, lambda: set(session.scalars(select(Nudge.member_id))))
    assert charlie.id in nudged and author.id not in nudged
    login(client, charlie)
    assert client.post(norm_path(norm, "/nudge")).status_code == 403


def test_reading_queue_page(client, session, factory, world):
    community, author, charlie, norm = world
    other = factory.norm(community, author, title="Already read")
    record_event(session, charlie, other, 1, "read")
    session.commit()
    login(client, charlie)
    page = client.get("/queue").get_data(as_text=True)
    assert norm.title in page and "You have not read it yet." in page
    assert "Already read" not in page
    assert client.get("/queue", follow_redirects=False).status_code == 200
    client.post("/logout")
    assert client.get("/queue").status_code == 302  # log in first


def test_former_members_and_visitors_leave_no_trace(client, session, world):
    from normhub.communities.services import leave

    community, _, charlie, norm = world
    response = client.post(norm_path(norm, "/read"), data={"version": "1", "token": "x"})
    assert response.status_code == 303 and "/login" in response.headers["Location"]
    leave(session, community, charlie)
    session.commit()
    login(client, charlie)
    page = client.get(norm_path(norm)).get_data(as_text=True)
    assert 'id="read-report"' not in page
    assert "Members of this community see here" in page
    assert count(session, ExposureEvent.kind != "authored") == 0
    assert client.get(f"/exposure/check?community={community.slug}").status_code == 403
