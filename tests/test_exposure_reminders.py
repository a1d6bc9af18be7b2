"""Reminding someone of a norm, checking first: the stories, through the pages, on either database.

Felix wants to remind someone of an in-force norm. The check runs first and
is recorded; then only the fair action is offered and accepted: share the
norm (an email, and the ledger's "delivered") with someone who has not read
its current text, a reminder (which they see and answer) for someone who has.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from normhub import events
from normhub.communities.services import leave
from normhub.db import utcnow
from normhub.discussion.services import post_comment
from normhub.exposure.ledger import record_event
from normhub.exposure.models import ExposureCheck, ExposureEvent, ExposureSummary, Reminder
from normhub.exposure.reminders import (
    RemindRate,
    act_on_check,
    check_before_reminding,
    remind_rate,
)
from normhub.exposure.standing import standing
from normhub.jobs.worker import running_worker
from normhub.mail.queue import SENT, QueuedEmail
from normhub.norms.services import AssumptionInput, revise_norm, set_prerequisites
from normhub.responses.services import AssumptionAnswer, record_response
from tests.conftest import login
from tests.jobs_helpers import fresh, wait_until
from tests.smtp import parts


@pytest.fixture
def app_overrides(smtp):
    return smtp.settings()


@pytest.fixture
def town(factory, session):
    """An in-force norm by Hannah, a steward, Felix who wants to remind, Rita and Dana."""
    community = factory.community()
    people = {
        "hannah": factory.member(community, name="Hannah Author"),
        "steward": factory.member(community, role="steward", name="Sam Steward"),
        "felix": factory.member(community, name="Felix Sender"),
        "rita": factory.member(community, name="Rita Reader"),
        "dana": factory.member(community, name="Dana Doubter"),
    }
    norm = factory.norm(
        community, people["hannah"], status="in_force", title="Quote figures with their base"
    )
    return {"community": community, "norm": norm, **people}


def path(norm, suffix: str = "") -> str:
    return f"/c/{norm.community.slug}/norms/{norm.slug}{suffix}"


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def check(client, norm, person) -> int:
    """Choose ``person`` on page 1: the check runs, and the page of its result follows."""
    response = client.post(path(norm, "/remind"), data={"person": str(person.id)})
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    return int(re.search(r"/remind/(\d+)$", response.headers["Location"]).group(1))


def act(client, norm, check_id, kind: str, text: str = ""):
    return client.post(
        path(norm, "/remind/act"), data={"check_id": str(check_id), "kind": kind, "text": text}
    )


def offered(page: str) -> str:
    return re.search(r'id="remind-action" data-action="(\w+)"', page).group(1)


def rows(session, model, *where):
    """The rows as the requests left them (a new transaction, no cached copies)."""
    session.rollback()
    query = select(model).where(*where).order_by(model.id)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def revise(session, factory, norm, editor, summary: str):
    version = norm.current_version
    draft = factory.draft(
        title=norm.title,
        body=version.body + f"\n\n{summary}",
        assumptions=[
            AssumptionInput(a.statement, a.explanation, a.key) for a in version.assumptions
        ],
    )
    revise_norm(session, norm, editor, draft, summary, True)
    factory.put_current_version_in_force(norm)
    session.commit()


# -- Not exposed: share it -------------------------------------------------------------------


def test_someone_who_has_not_read_the_changes_gets_the_norm_shared(
    app, client, session, factory, town, smtp
):
    norm, felix, rita = town["norm"], town["felix"], town["rita"]
    record_event(session, rita, norm, 1, "read")
    session.commit()
    revise(session, factory, norm, town["hannah"], "Now covers charts too.")
    login(client, felix)

    # Page 1 only reads: the person is chosen, nothing is recorded yet.
    choose = client.get(path(norm, f"/remind?person={rita.id}"))
    assert choose.status_code == 200
    assert f'<option selected value="{rita.id}">Rita Reader</option>' in text_of(choose)
    assert rows(session, ExposureCheck) == []

    shared_events = []
    with events.Exposure.NormShared.in_transaction.connected_to(
        lambda _s, **facts: shared_events.append(facts)
    ):
        check_id = check(client, norm, rita)
        [recorded] = rows(session, ExposureCheck)
        assert (recorded.id, recorded.checker_id, recorded.subject_id) == (
            check_id,
            felix.id,
            rita.id,
        )
        assert recorded.level == "none" and recorded.stale is True

        page = text_of(client.get(path(norm, f"/remind/{check_id}")))
        assert offered(page) == "share"
        assert "Share it with them" in page and "Record the reminder" not in page
        assert "What changed since they read version 1" in page
        assert "Version 2</strong>: Now covers charts too." in page

        done = act(client, norm, check_id, "share", "Hi Rita, the charts part is new.")
        assert done.status_code == 303
    [reminder] = rows(session, Reminder)
    assert (reminder.kind, reminder.to_user_id, reminder.from_user_id) == (
        "share",
        rita.id,
        felix.id,
    )
    assert (reminder.check_id, reminder.version_number) == (check_id, 2)
    assert reminder.checked_found_exposed is False
    assert reminder.note == "Hi Rita, the charts part is new."
    assert [facts["reminder"].id for facts in shared_events] == [reminder.id]

    # The ledger: delivered on version 2 for Rita; what she read stays.
    [delivered] = rows(session, ExposureEvent, ExposureEvent.kind == "delivered")
    assert (delivered.user_id, delivered.version_number) == (rita.id, 2)
    summary = session.get(ExposureSummary, (rita.id, norm.id))
    assert summary.highest_level_name == "read" and summary.highest_level_version == 1
    assert standing(session, norm, rita).newest_read_version == 1

    after = text_of(client.get(path(norm, f"/remind/{check_id}")))
    assert "You shared this norm with Rita Reader" in after
    assert "Share it with them</button>" not in after

    # The email, through the queue's worker, to a real SMTP server.
    [queued] = rows(session, QueuedEmail, QueuedEmail.kind == "norm-shared")
    assert queued.recipient == rita.email
    with smtp, running_worker(app):
        wait_until(lambda: fresh(session, queued.id).status == SENT, "the share to be sent")
    [message] = [m.message for m in smtp.handler.to(rita.email) if "shared" in m.message["Subject"]]
    assert message["Subject"] == "Felix Sender shared “Quote figures with their base” with you"
    bodies = {kind: body.replace("\r\n", "\n") for kind, body in parts(message).items()}
    link = f"http://normhub.test/c/{norm.community.slug}/norms/{norm.slug}"
    for body in bodies.values():
        assert link in body
        assert "Version 2: Now covers charts too." in body
        assert "Hi Rita, the charts part is new." in body
    assert "What changed since you read version 1" in bodies["text/plain"]

    # Rita sees the check about her, and the share on her reminders page.
    client.post("/logout")
    login(client, rita)
    assert "Felix Sender" in text_of(client.get("/exposure/about-me"))
    mine = text_of(client.get("/exposure/reminders"))
    assert "Felix Sender" in mine and "shared" in mine and "Quote figures with their base" in mine
    assert "Hi Rita, the charts part is new." in mine and "Read it now" in mine


def test_someone_who_never_opened_it_gets_it_without_a_change_list(client, session, town):
    norm, rita = town["norm"], town["rita"]
    login(client, town["felix"])
    check_id = check(client, norm, rita)
    page = text_of(client.get(path(norm, f"/remind/{check_id}")))
    assert offered(page) == "share"
    assert 'data-code="share_norm"' in page and "What changed since" not in page
    assert act(client, norm, check_id, "share").status_code == 303  # the message is optional
    [reminder] = rows(session, Reminder)
    assert reminder.note == "" and reminder.version_number == 1
    [queued] = rows(session, QueuedEmail, QueuedEmail.kind == "norm-shared")
    assert "What changed" not in queued.text_body
    [delivered] = rows(session, ExposureEvent, ExposureEvent.kind == "delivered")
    assert delivered.user_id == rita.id


# -- Exposed: a reminder, seen and answered --------------------------------------------------


def test_a_reminder_is_seen_answered_and_shown_to_stewards(client, session, town):
    norm, felix, rita = town["norm"], town["felix"], town["rita"]
    record_event(session, rita, norm, 1, "read")
    record_response(session, norm, rita, "yes", "undecided")
    session.commit()
    login(client, felix)
    recorded = []
    with events.Exposure.ReminderRecorded.in_transaction.connected_to(
        lambda _s, **facts: recorded.append(facts["recipient"].id)
    ):
        check_id = check(client, norm, rita)
        page = text_of(client.get(path(norm, f"/remind/{check_id}")))
        assert offered(page) == "reminder" and 'data-code="fair_to_hold"' in page
        assert "it is fair to hold them to it" in page and "Share it with them" not in page

        empty = act(client, norm, check_id, "reminder", "   ")
        assert empty.status_code == 400
        assert "Write a short note for them." in text_of(empty)
        too_long = act(client, norm, check_id, "reminder", "x" * 1001)
        assert too_long.status_code == 400 and "1,000 characters" in text_of(too_long)
        assert rows(session, Reminder) == []

        note = "Please quote the base <b>with</b> the figure, as we agreed."
        assert act(client, norm, check_id, "reminder", note).status_code == 303
    [reminder] = rows(session, Reminder)
    assert (reminder.kind, reminder.checked_found_exposed, reminder.note) == (
        "reminder",
        True,
        note,
    )
    assert recorded == [rita.id]
    # A reminder is no share: what reaches her by email is the notice of the reminder
    # (at once by default; notifications' own tests cover the choice and the check's notice).
    assert [m.kind for m in rows(session, QueuedEmail)] == ["notice-reminder"]
    assert rows(session, ExposureEvent, ExposureEvent.kind == "delivered") == []
    again = act(client, norm, check_id, "reminder", "Once more.")
    assert again.status_code == 409 and "You already acted on this check." in text_of(again)

    client.post("/logout")
    login(client, rita)
    raw = client.get("/exposure/reminders").get_data(as_text=True)
    assert "&lt;b&gt;with&lt;/b&gt;" in raw and "<b>with</b>" not in raw  # escaped
    mine = html.unescape(raw)
    assert "Felix Sender" in mine and "reminded you of" in mine and note in mine
    assert f'href="{path(norm)}"' in mine and "Read it now" in mine
    answered = client.post(
        f"/exposure/reminders/{reminder.id}/reply",
        data={f"r{reminder.id}-reply": "Fair point, I will from now on."},
    )
    assert answered.status_code == 303
    [reminder] = rows(session, Reminder)
    assert reminder.reply == "Fair point, I will from now on." and reminder.replied_at
    twice = client.post(
        f"/exposure/reminders/{reminder.id}/reply", data={f"r{reminder.id}-reply": "Again"}
    )
    assert twice.status_code == 409 and "already answered" in text_of(twice)
    assert rows(session, Reminder)[0].reply == "Fair point, I will from now on."

    # Only the one reminded answers: anyone else gets nothing.
    client.post("/logout")
    login(client, town["dana"])
    other = client.post(
        f"/exposure/reminders/{reminder.id}/reply", data={f"r{reminder.id}-reply": "Me too"}
    )
    assert other.status_code == 404
    assert client.get(f"/c/{town['community'].slug}/reminders").status_code == 403

    client.post("/logout")
    login(client, town["steward"])
    steward_page = text_of(client.get(f"/c/{town['community'].slug}/reminders"))
    assert "Felix Sender" in steward_page and "Rita Reader" in steward_page
    assert note in steward_page and "Fair point, I will from now on." in steward_page
    assert "1 of 1 reminder followed a check that found the person had read the norm" in (
        " ".join(steward_page.replace("<strong>", "").replace("</strong>", "").split())
    )
    community_page = text_of(client.get(f"/c/{town['community'].slug}"))
    assert f'href="/c/{town["community"].slug}/reminders"' in community_page


def test_rejected_assumption_and_unmet_prerequisite_come_first(client, session, factory, town):
    norm, dana, rita = town["norm"], town["dana"], town["rita"]
    first, second = norm.current_version.assumptions
    record_response(
        session,
        norm,
        dana,
        "yes",
        "endorse",
        answers={second.id: AssumptionAnswer("yes", "disagree", "Corrections travel fine here.")},
    )
    base = factory.norm(town["community"], town["hannah"], title="Say where a claim comes from")
    session.commit()
    login(client, town["felix"])

    page = text_of(client.get(path(norm, f"/remind/{check(client, norm, dana)}")))
    assert offered(page) == "reminder" and 'data-code="discuss_assumptions"' in page
    first_part = re.search(r'id="remind-address-first">(.*?)</div>', page, re.S).group(1)
    assert "Address this first." in first_part
    assert f"Assumption 2: “{second.statement}”" in first_part
    assert "Corrections travel fine here." in first_part

    set_prerequisites(session, norm, town["hannah"], [base])
    record_response(session, norm, rita, "yes", "endorse")
    session.commit()
    check_id = check(client, norm, rita)
    page = text_of(client.get(path(norm, f"/remind/{check_id}")))
    assert offered(page) == "reminder" and 'data-code="unmet_prerequisites"' in page
    first_part = re.search(r'id="remind-address-first">(.*?)</div>', page, re.S).group(1)
    assert "Say where a claim comes from" in first_part
    # Said plainly, and still allowed.
    assert act(client, norm, check_id, "reminder", "Have a look at both.").status_code == 303
    assert [r.kind for r in rows(session, Reminder)] == ["reminder"]


# -- Refused -----------------------------------------------------------------------------------


def test_a_forged_action_is_refused(client, session, factory, town):
    norm, felix, rita, dana = town["norm"], town["felix"], town["rita"], town["dana"]
    record_response(session, norm, dana, "yes", "endorse")
    session.commit()
    login(client, felix)
    unexposed_check = check(client, norm, rita)
    forged = act(client, norm, unexposed_check, "reminder", "You should have known.")
    assert forged.status_code == 409
    page = text_of(forged)
    assert "Refused: the check found that Rita Reader has not read the current text" in page
    # The page offers the share again, whatever the refused form claimed.
    assert offered(page) == "share" and 'name="kind" type="hidden" value="share"' in page
    exposed_check = check(client, norm, dana)
    wrong = act(client, norm, exposed_check, "share")
    assert wrong.status_code == 409 and "record a reminder instead" in text_of(wrong)
    assert rows(session, Reminder) == []
    assert rows(session, QueuedEmail, QueuedEmail.kind == "norm-shared") == []
    assert rows(session, ExposureEvent, ExposureEvent.kind == "delivered") == []

    # Someone else's check, a check about another norm, no check at all: nothing there.
    other_norm = factory.norm(town["community"], town["hannah"], status="in_force", title="Other")
    client.post("/logout")
    login(client, town["steward"])
    assert act(client, norm, exposed_check, "reminder", "Mine now").status_code == 404
    assert act(client, other_norm, exposed_check, "reminder", "Elsewhere").status_code == 404
    assert act(client, norm, 2**31 + 5, "reminder", "Big").status_code == 404
    assert client.get(path(norm, f"/remind/{exposed_check}")).status_code == 404
    assert rows(session, Reminder) == []

    # What they had seen changed since the check: check again.
    client.post("/logout")
    login(client, felix)
    stale_check = check(client, norm, rita)
    record_event(session, rita, norm, 1, "read")
    session.commit()
    changed = act(client, norm, stale_check, "share")
    assert changed.status_code == 409
    assert "What Rita Reader has seen changed since you checked" in text_of(changed)
    # And a check an hour old is no longer enough.
    old_check = check(client, norm, dana)
    [old] = rows(session, ExposureCheck, ExposureCheck.id == old_check)
    old.created_at = utcnow() - timedelta(minutes=61)
    session.commit()
    expired = act(client, norm, old_check, "reminder", "Late")
    assert expired.status_code == 409 and "more than an hour old" in text_of(expired)
    assert rows(session, Reminder) == []


def test_nobody_is_bound_by_a_norm_not_in_force(client, session, factory, town):
    open_norm = factory.norm(town["community"], town["hannah"], title="Still under discussion")
    login(client, town["felix"])
    check_id = check(client, open_norm, town["rita"])
    page = text_of(client.get(path(open_norm, f"/remind/{check_id}")))
    assert offered(page) == "none"
    assert "Nobody is bound by this norm yet: discuss it, don't enforce it." in page
    refused = act(client, open_norm, check_id, "share")
    assert refused.status_code == 409 and "discuss it, don't enforce it" in text_of(refused)
    assert rows(session, Reminder) == []
    # The check itself is recorded all the same: Rita sees that Felix asked.
    assert [c.subject_id for c in rows(session, ExposureCheck)] == [town["rita"].id]


# -- Who may, and who sees what --------------------------------------------------------------


def test_only_active_members_are_offered_and_checked(client, session, factory, town):
    norm, felix = town["norm"], town["felix"]
    former = factory.member(town["community"], name="Lea Leaver")
    leave(session, town["community"], former)
    outsider = factory.user("Olga Outsider")
    session.commit()
    login(client, felix)
    page = text_of(client.get(path(norm, "/remind")))
    for name in ("Rita Reader", "Dana Doubter", "Sam Steward", "Hannah Author"):
        assert f">{name}</option>" in page
    assert "Lea Leaver" not in page and "Olga Outsider" not in page
    assert ">Felix Sender</option>" not in page  # not oneself
    narrowed = text_of(client.get(path(norm, "/remind?q=rit")))
    assert ">Rita Reader</option>" in narrowed and "Dana Doubter" not in narrowed

    from_comment = text_of(client.get(path(norm, f"/remind?person={former.id}")))
    assert "Lea Leaver is not a member of" in from_comment
    for person in (former, outsider, felix):
        refused = client.post(path(norm, "/remind"), data={"person": str(person.id)})
        assert refused.status_code == 400
    assert rows(session, ExposureCheck) == []


def test_the_norm_page_and_its_comments_link_to_the_flow(client, session, factory, town):
    norm, felix, rita = town["norm"], town["felix"], town["rita"]
    post_comment(session, norm, rita, "I never saw this one.")
    post_comment(session, norm, felix, "It has been in force for a while.")
    session.commit()
    login(client, felix)
    page = client.get(path(norm)).get_data(as_text=True)
    assert f'href="{path(norm, "/remind")}" id="remind-link"' in page
    assert f'href="{path(norm, f"/remind?person={rita.id}")}"' in page
    assert "Remind Rita Reader of this norm" in page
    assert "Remind Felix Sender of this norm" not in page  # not one's own comment
    open_norm = factory.norm(town["community"], town["hannah"], title="Open")
    post_comment(session, open_norm, rita, "Thoughts?")
    session.commit()
    assert "Remind Rita Reader" not in client.get(path(open_norm)).get_data(as_text=True)
    client.post("/logout")
    login(client, factory.user("Pat Public"))
    page = client.get(path(norm)).get_data(as_text=True)
    assert "remind-link" not in page and "/remind?person=" not in page
    assert client.get(path(norm, "/remind")).status_code == 403


def test_a_members_only_community_stays_hidden(client, session, factory):
    community = factory.community(visibility="members")
    felix = factory.member(community, name="Felix Sender")
    rita = factory.member(community, name="Rita Reader")
    steward = factory.member(community, role="steward", name="Sam Steward")
    norm = factory.norm(community, steward, status="in_force", title="Secret norm title")
    record_event(session, rita, norm, 1, "read")
    session.commit()
    check_id = check_before_reminding(session, felix, norm, rita).id
    act_on_check(session, felix, norm, check_id, "reminder", "Secret note")
    session.commit()
    [reminder] = rows(session, Reminder)

    outsider = factory.user("Olga Outsider")
    login(client, outsider)
    for url in (
        path(norm, "/remind"),
        path(norm, f"/remind/{check_id}"),
        f"/c/{community.slug}/reminders",
    ):
        assert client.get(url).status_code == 404, url
    assert act(client, norm, check_id, "reminder", "x").status_code == 404
    refused = client.post(
        f"/exposure/reminders/{reminder.id}/reply", data={f"r{reminder.id}-reply": "x"}
    )
    assert refused.status_code == 404
    client.post("/logout")

    # Rita leaves: she still learns a reminder exists, but no name of anything.
    leave(session, community, rita)
    session.commit()
    login(client, rita)
    mine = text_of(client.get("/exposure/reminders"))
    assert "in a members-only community you are no longer part of" in mine
    for secret in ("Secret norm title", "Secret note", "Felix Sender", community.name, norm.slug):
        assert secret not in mine
    gone = client.post(
        f"/exposure/reminders/{reminder.id}/reply", data={f"r{reminder.id}-reply": "Hello?"}
    )
    assert gone.status_code == 404
    assert rows(session, Reminder)[0].reply is None


# -- The rate ------------------------------------------------------------------------------------


def test_the_checked_before_calling_out_rate(client, session, factory, town):
    community, norm, felix = town["community"], town["norm"], town["felix"]
    readers = [factory.member(community, name=f"Reader {n}") for n in range(15)]
    strangers = [factory.member(community, name=f"Stranger {n}") for n in range(3)]
    for person in readers:
        record_event(session, person, norm, 1, "read")
    session.commit()
    for person in readers:
        act_on_check(
            session,
            felix,
            norm,
            check_before_reminding(session, felix, norm, person).id,
            "reminder",
            f"Remember, {person.display_name}.",
        )
    for person in strangers:
        act_on_check(
            session,
            felix,
            norm,
            check_before_reminding(session, felix, norm, person).id,
            "share",
            "",
        )
    # Another community's reminders never count here.
    elsewhere = factory.community()
    other_felix = factory.member(elsewhere, name="Other Felix")
    other_rita = factory.member(elsewhere, name="Other Rita")
    other_norm = factory.norm(elsewhere, status="in_force")
    record_event(session, other_rita, other_norm, 1, "read")
    act_on_check(
        session,
        other_felix,
        other_norm,
        check_before_reminding(session, other_felix, other_norm, other_rita).id,
        "reminder",
        "Hi",
    )
    session.commit()
    assert remind_rate(session, community) == RemindRate(
        reminders=15, after_exposed_check=15, shares=3
    )

    # Every reminder of this flow follows a check that found the person exposed;
    # the rate counts whatever the rows say (an import, a later path), so make one say otherwise.
    first = rows(
        session, Reminder, Reminder.community_id == community.id, Reminder.kind == "reminder"
    )[0]
    first.checked_found_exposed = False
    session.commit()
    rate = remind_rate(session, community)
    assert rate == RemindRate(reminders=15, after_exposed_check=14, shares=3)
    assert rate.percent == 93
    assert RemindRate(reminders=16, after_exposed_check=14, shares=0).percent == 88
    assert RemindRate(reminders=3, after_exposed_check=2, shares=0).percent is None

    login(client, town["steward"])
    page = " ".join(
        text_of(client.get(f"/c/{community.slug}/reminders"))
        .replace("<strong>", "")
        .replace("</strong>", "")
        .split()
    )
    assert (
        "14 of 15 reminders (93 %) followed a check that found the person had read the norm" in page
    )
    assert "3 times a member shared a norm with someone the check found had not read it" in page
    assert "(check found them unexposed)" in page
    assert "Other Felix" not in page
    # Paginated: the page size is 20, so 18 rows fit one page; the newest come first.
    assert page.count('data-kind="reminder"') + page.count('data-kind="share"') == 18

    small = factory.community()
    small_steward = factory.member(small, role="steward")
    small_norm = factory.norm(small, status="in_force")
    small_readers = [factory.member(small) for _ in range(3)]
    for person in small_readers:
        record_event(session, person, small_norm, 1, "read")
        act_on_check(
            session,
            small_steward,
            small_norm,
            check_before_reminding(session, small_steward, small_norm, person).id,
            "reminder",
            "Note",
        )
    session.commit()
    client.post("/logout")
    login(client, small_steward)
    small_page = " ".join(
        text_of(client.get(f"/c/{small.slug}/reminders"))
        .replace("<strong>", "")
        .replace("</strong>", "")
        .split()
    )
    assert "3 of 3 reminders followed a check that found the person had read" in small_page
    assert " %)" not in small_page  # small numbers stay numbers


def test_the_steward_page_is_paginated(app, client, session, factory, town):
    community, norm, felix = town["community"], town["norm"], town["felix"]
    people = [factory.member(community, name=f"Member {n:02d}") for n in range(22)]
    for person in people:
        act_on_check(
            session,
            felix,
            norm,
            check_before_reminding(session, felix, norm, person).id,
            "share",
            "",
        )
    session.commit()
    login(client, town["steward"])
    first = client.get(f"/c/{community.slug}/reminders").get_data(as_text=True)
    second = client.get(f"/c/{community.slug}/reminders?page=2").get_data(as_text=True)
    assert first.count('data-kind="share"') == app.config["PAGE_SIZE"] == 20
    assert second.count('data-kind="share"') == 2
    assert "Page 1 of 2 (22 in all)" in first
    assert "Member 21" in first and "Member 00" in second  # newest first
