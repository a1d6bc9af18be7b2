"""Where a person stands: one story per recommendation, history, authors, and surfaces agreeing.

Each story asks the API (fields) and the check page (words) about the same
person, on whichever database the suite runs on.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from normhub.api import services as api_services
from normhub.communities.services import leave
from normhub.db import utcnow
from normhub.exposure.coverage import coverage, unexposed_members
from normhub.exposure.ledger import record_event
from normhub.exposure.models import ExposureCheck, ExposureSummary
from normhub.exposure.nudges import nudge
from normhub.exposure.reading_queue import reading_queue
from normhub.exposure.standing import reading_state, standing
from normhub.norms.models import StatusChange
from normhub.norms.services import AssumptionInput, change_status, revise_norm, set_prerequisites
from normhub.responses.services import AssumptionAnswer, record_response
from tests.conftest import login

CHANGES = {2: "Now covers charts too.", 3: "Asks for the source as well."}


@pytest.fixture
def town(factory, session, client):
    """An in-force norm by Hannah Cho, a steward, a checker logged in, and a few members."""
    community = factory.community(coverage_threshold_pct=10, coverage_min_responses=0)
    hannah = factory.member(community, name="Hannah Cho")
    steward = factory.member(community, role="steward", name="Sam Steward")
    checker = factory.member(community, name="Felix Checker")
    norm = factory.norm(community, hannah, title="Quote statistics with their denominators")
    change_status(session, norm, steward, "in_force")
    session.commit()
    login(client, checker)
    _, secret = api_services.create_token(session, checker, "stories")
    session.commit()
    return {
        "community": community,
        "norm": norm,
        "hannah": hannah,
        "steward": steward,
        "checker": checker,
        "headers": {"Authorization": f"Bearer {secret}"},
    }


def member(factory, town, name):
    return factory.member(town["community"], name=name)


def revise(session, factory, town, number, *, material=True, by=None):
    norm = town["norm"]
    version = norm.current_version
    draft = factory.draft(
        body=version.body + f"\n\nRevision {number}.",
        assumptions=[
            AssumptionInput(a.statement, a.explanation, a.key) for a in version.assumptions
        ],
    )
    summary = CHANGES.get(number, f"Reworded, version {number}.")
    new = revise_norm(session, norm, by or town["hannah"], draft, summary, material)
    factory.put_current_version_in_force(norm)
    session.commit()
    return new


def ask(client, town, person, *, norm=None, as_of=None):
    """The API's answer (JSON) and the check page's (the answer and the next step, as text)."""
    norm = norm or town["norm"]
    community = town["community"]
    query = f"?as_of={as_of.isoformat()}Z" if as_of else ""
    api = client.get(
        f"/api/v1/communities/{community.slug}/norms/{norm.slug}/exposure/{person.id}{query}",
        headers=town["headers"],
    )
    assert api.status_code == 200, api.get_data(as_text=True)
    page = html.unescape(check_page(client, community, norm, person, as_of=as_of))
    answer = re.search(r'<p class="answer" id="check-answer">(.*?)</p>', page, re.S).group(1)
    step = re.search(
        r'<p class="answer (\w+)" id="check-recommendation" data-code="(\w+)">\s*'
        r"<strong>Next step:</strong> (.*?)\s*</p>",
        page,
        re.S,
    )
    body = api.get_json()
    assert step.group(2) == body["recommendation"]["code"]
    assert answer == body["answer"]
    return body, {"answer": answer, "tone": step.group(1), "step": step.group(3)}


def check_page(client, community, norm, person, *, as_of=None) -> str:
    """Check on the check page (POST), and read the recorded check it redirects to."""
    data = {"community": community.slug, "norm": norm.slug, "member": str(person.id)}
    if as_of:
        data["as_of"] = as_of.isoformat()
    made = client.post("/exposure/check", data=data)
    assert made.status_code == 303, made.get_data(as_text=True)
    assert re.fullmatch(r"/exposure/checks/\d+", made.headers["Location"]), made.headers
    page = client.get(made.headers["Location"])
    assert page.status_code == 200
    return page.get_data(as_text=True)


def assert_recommends(body, page, code, tone):
    assert body["recommendation"]["code"] == code
    assert page["tone"] == tone
    assert page["step"] == body["recommendation"]["text"]
    assert body["answer"].endswith(body["recommendation"]["text"])


# -- One story per recommendation ---------------------------------------------------------


def test_not_member(client, session, factory, town):
    outsider = factory.user("Olga Outsider")
    leaver = member(factory, town, "Lea Leaver")
    record_event(session, leaver, town["norm"], 1, "read")
    leave(session, town["community"], leaver)
    session.commit()
    # Someone who never joined is no one here: neither the API nor the page names them.
    community, norm = town["community"], town["norm"]
    api = f"/api/v1/communities/{community.slug}/norms/{norm.slug}/exposure/{outsider.id}"
    assert client.get(api, headers=town["headers"]).status_code == 404
    data = {"community": community.slug, "norm": norm.slug, "member": str(outsider.id)}
    refused = client.post("/exposure/check", data=data)
    assert refused.status_code == 404 and "Olga" not in refused.get_data(as_text=True)
    body, page = ask(client, town, leaver)
    assert_recommends(body, page, "not_member", "neutral")
    assert body["is_member"] is False and body["norm_status"] == "in_force"
    assert f"Lea Leaver left this community on {utcnow():%Y-%m-%d}." in page["answer"]


def test_not_in_force_says_nobody_is_bound_yet(client, session, factory, town):
    samuel = member(factory, town, "Samuel")
    proposal = factory.norm(town["community"], town["hannah"], title="Ask before forwarding")
    record_response(session, proposal, samuel, "yes", "reject")
    session.commit()
    body, page = ask(client, town, samuel, norm=proposal)
    assert_recommends(body, page, "not_in_force", "neutral")
    assert body["norm_status"] == "open" and body["in_force_since"] is None
    assert page["answer"].startswith("This norm is open for discussion: nobody is bound by it yet.")
    assert "On version 1 they said they reject it." in page["answer"]
    assert page["step"] == "Discuss it with them, don't enforce it."


def test_share_norm_when_never_opened(client, session, factory, town):
    nina = member(factory, town, "Nina")
    record_event(session, nina, town["norm"], 1, "delivered")
    session.commit()
    body, page = ask(client, town, nina)
    assert_recommends(body, page, "share_norm", "short")
    since = town["norm"].status_changed_at
    assert body["in_force_since"] == since.isoformat() + "Z"
    assert page["answer"].startswith(f"This norm has been in force since {since:%Y-%m-%d}.")
    assert "Nina was sent version 1 but has not opened it." in page["answer"]
    assert "Share the norm with Nina instead of calling them out" in page["step"]


def test_share_changes_counts_from_what_they_endorsed_not_a_glance(client, session, factory, town):
    jonas = member(factory, town, "Jonas")
    rita = member(factory, town, "Rita")
    record_response(session, town["norm"], jonas, "yes", "endorse")
    session.commit()
    revise(session, factory, town, 2)
    record_event(session, jonas, town["norm"], 2, "opened")  # a glance at version 2
    record_event(session, rita, town["norm"], 2, "read")
    session.commit()
    revise(session, factory, town, 3)
    body, page = ask(client, town, jonas)
    assert_recommends(body, page, "share_changes", "short")
    assert [c["number"] for c in body["changes_since_read"]] == [2, 3]
    assert [c["change_summary"] for c in body["changes_since_read"]] == [CHANGES[2], CHANGES[3]]
    assert body["highest_level"] == "endorsed" and body["highest_level_version"] == 1
    assert (
        "Jonas read and endorsed version 1. The norm has changed materially since version 1 "
        "(now version 3): v2: Now covers charts too; v3: Asks for the source as well. "
        "Then Jonas opened version 2 but has not read it to the end."
    ) in page["answer"]
    assert "Share what changed since version 1 with Jonas" in page["step"]
    # Someone who read version 2 is told only of version 3's change.
    body, page = ask(client, town, rita)
    assert_recommends(body, page, "share_changes", "short")
    assert [c["number"] for c in body["changes_since_read"]] == [3]
    assert "changed materially since version 2 (now version 3): v3:" in page["answer"]


def test_remind_when_opened_or_sent_the_current_text(client, session, factory, town):
    olive = member(factory, town, "Olive")
    dora = member(factory, town, "Dora")
    record_event(session, olive, town["norm"], 1, "opened")
    record_event(session, dora, town["norm"], 1, "delivered")
    record_event(session, dora, town["norm"], 1, "opened")
    session.commit()
    for person in (olive, dora):
        body, page = ask(client, town, person)
        assert_recommends(body, page, "remind", "short")
        assert body["changes_since_read"] == []
        assert f"{person.display_name} opened version 1 but has not read it" in page["answer"]
        assert "A reminder to read the current text is fair; a call-out is not" in page["step"]


def test_ask_understanding_when_read_but_silent(client, session, factory, town):
    reto = member(factory, town, "Reto")
    pia = member(factory, town, "Pia")
    record_event(session, reto, town["norm"], 1, "read")
    record_response(session, town["norm"], pia, "partly", "undecided")
    session.commit()
    body, page = ask(client, town, reto)
    assert_recommends(body, page, "ask_understanding", "short")
    assert "Reto read version 1. They have not said whether they understood it." in (page["answer"])
    body, page = ask(client, town, pia)
    assert_recommends(body, page, "ask_understanding", "short")
    assert "On version 1 they said they only partly understood it." in page["answer"]


def test_discuss_assumptions_with_the_wording_they_answered(client, session, factory, town):
    dana = member(factory, town, "Dana")
    first, second = town["norm"].current_version.assumptions
    record_response(
        session,
        town["norm"],
        dana,
        "yes",
        "endorse",
        answers={
            first.id: AssumptionAnswer("yes", "agree"),
            second.id: AssumptionAnswer("yes", "disagree", "Corrections travel fine here."),
        },
    )
    session.commit()
    body, page = ask(client, town, dana)
    assert_recommends(body, page, "discuss_assumptions", "short")
    assert [(a["position"], a["version"]) for a in body["assumption_answers"]] == [(1, 1), (2, 1)]
    assert (
        f"They reject assumption 2 of version 1: “{second.statement.rstrip('.')}”."
        in page["answer"]
    )
    assert page["step"] == "Answer Dana's reasons for rejecting it before enforcing it."


def test_unmet_prerequisites(client, session, factory, town):
    uma = member(factory, town, "Uma")
    base = factory.norm(town["community"], town["hannah"], title="Say where a claim comes from")
    set_prerequisites(session, town["norm"], town["hannah"], [base])
    record_response(session, town["norm"], uma, "yes", "endorse")
    session.commit()
    body, page = ask(client, town, uma)
    assert_recommends(body, page, "unmet_prerequisites", "short")
    assert [n["title"] for n in body["unmet_prerequisites"]] == ["Say where a claim comes from"]
    assert (
        "It builds on norms they have not read: “Say where a claim comes from”." in (page["answer"])
    )


def test_fair_to_hold(client, session, factory, town):
    felicia = member(factory, town, "Felicia")
    record_response(session, town["norm"], felicia, "yes", "undecided")
    session.commit()
    body, page = ask(client, town, felicia)
    assert_recommends(body, page, "fair_to_hold", "meets")
    assert body["fully_exposed"] is True
    assert "It is fair to hold Felicia to this norm" in page["step"]


# -- As of an instant ------------------------------------------------------------------------


def test_as_of_answers_from_history(client, session, factory, town):
    ivo = member(factory, town, "Ivo")
    before_reading = utcnow()
    record_event(session, ivo, town["norm"], 1, "opened")
    record_response(session, town["norm"], ivo, "yes", "endorse")
    session.commit()
    after_reading = utcnow()
    revise(session, factory, town, 2)
    after_revision = utcnow()

    body, page = ask(client, town, ivo, as_of=before_reading)
    assert_recommends(body, page, "share_norm", "short")
    assert body["level"] == "none" and body["current_version"] == 1
    assert body["as_of"] == before_reading.isoformat() + "Z"

    body, page = ask(client, town, ivo, as_of=after_reading)
    assert_recommends(body, page, "fair_to_hold", "meets")
    assert body["current_version"] == 1 and body["changes_since_read"] == []
    assert body["endorsement"] == "endorse" and body["response_is_current"] is True

    body, page = ask(client, town, ivo, as_of=after_revision)
    assert_recommends(body, page, "share_changes", "short")
    assert body["current_version"] == 2 and body["stale"] is True
    assert [c["number"] for c in body["changes_since_read"]] == [2]

    now, page = ask(client, town, ivo)
    assert {k: v for k, v in now.items() if k not in ("as_of", "checked_at")} == {
        k: v for k, v in body.items() if k not in ("as_of", "checked_at")
    }
    # Before the norm came into force, nobody was bound by it.
    opened_at = session.scalar(
        select(StatusChange.changed_at).where(
            StatusChange.norm_id == town["norm"].id, StatusChange.to_status == "open"
        )
    )
    body, page = ask(client, town, town["hannah"], as_of=opened_at)
    assert body["norm_status"] == "open" and body["in_force_since"] is None
    assert_recommends(body, page, "not_in_force", "neutral")
    # Ivo joined later: then, he was not a member.
    body, page = ask(client, town, ivo, as_of=opened_at)
    assert_recommends(body, page, "not_member", "neutral")
    assert "Ivo was not a member of this community then." in page["answer"]


def test_as_of_now_agrees_with_the_summaries(session, factory, town):
    people = [member(factory, town, name) for name in ("A", "B", "C", "D")]
    norm = town["norm"]
    record_event(session, people[0], norm, 1, "delivered")
    record_event(session, people[1], norm, 1, "read")
    record_response(session, norm, people[2], "yes", "reject")
    session.commit()
    revise(session, factory, town, 2, material=False)
    record_event(session, people[1], norm, 2, "opened")
    session.commit()
    revise(session, factory, town, 3)
    record_event(session, people[2], norm, 3, "delivered")
    record_event(session, people[3], norm, 3, "read")
    session.commit()
    instant = utcnow()
    for person in [*people, town["hannah"], town["steward"]]:
        today = standing(session, norm, person, timeline_limit=50).to_dict()
        replayed = standing(session, norm, person, as_of=instant, timeline_limit=50).to_dict()
        assert replayed.pop("as_of") is not None and today.pop("as_of") is None
        assert replayed == today, person.display_name


def test_malformed_as_of(client, session, factory, town):
    community, norm = town["community"], town["norm"]
    url = f"/api/v1/communities/{community.slug}/norms/{norm.slug}/exposure/{town['hannah'].id}"
    response = client.get(f"{url}?as_of=last-tuesday", headers=town["headers"])
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400 and "ISO 8601" in error["message"]
    response = client.post(
        "/exposure/check",
        data={
            "community": community.slug,
            "norm": norm.slug,
            "member": str(town["hannah"].id),
            "as_of": "last-tuesday",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="check-as-of-error"' in page and 'id="check-answer"' not in page
    assert 'value="last-tuesday"' in page  # what was typed is kept to correct
    assert session.scalar(select(ExposureCheck.id)) is None


# -- Authors ---------------------------------------------------------------------------------


def test_the_author_counts_everywhere(client, session, factory, town):
    hannah, norm = town["hannah"], town["norm"]
    reader = member(factory, town, "Reader")
    body, page = ask(client, town, hannah)
    assert body["authored_by_subject"] is True and body["level"] == "endorsed"
    assert_recommends(body, page, "fair_to_hold", "meets")
    assert "Hannah Cho wrote this norm. Hannah Cho read and endorsed version 1." in page["answer"]
    assert "Writing it counts as reading and endorsing it." in page["answer"]
    assert coverage(session, norm).levels["endorsed"] == 1
    assert hannah.id not in {user.id for user, _ in unexposed_members(session, norm)}
    assert reader.id in {user.id for user, _ in unexposed_members(session, norm)}

    # Her material revision makes her current on the new text; the steward's makes him current.
    revise(session, factory, town, 2)
    body, _ = ask(client, town, hannah)
    assert (body["level"], body["level_version"], body["stale"]) == ("endorsed", 2, False)
    assert body["fully_exposed"] and body["recommendation"]["code"] == "fair_to_hold"
    revise(session, factory, town, 3, by=town["steward"])
    body, _ = ask(client, town, town["steward"])
    assert body["authored_by_subject"] is False and body["level_version"] == 3
    assert body["recommendation"]["code"] == "fair_to_hold"
    assert ask(client, town, hannah)[0]["recommendation"]["code"] == "share_changes"


def test_the_gate_counts_the_author(session, factory):
    community = factory.community(coverage_threshold_pct=50, coverage_min_responses=1)
    author = factory.member(community, name="Author")
    steward = factory.member(community, role="steward")
    norm = factory.norm(community, author)  # owner, author, steward: the author is 1 of 3
    record_response(session, norm, steward, "yes", "endorse")
    session.commit()
    change_status(session, norm, steward, "in_force")  # 2 of 3 understood: 66% >= 50%
    session.commit()
    assert norm.status == "in_force"


# -- A glance never lowers the answer; every surface agrees ------------------------------


def test_a_glance_or_a_delivery_never_lowers_the_answer(client, session, factory, town):
    gil = member(factory, town, "Gil")
    record_response(session, town["norm"], gil, "yes", "endorse")
    session.commit()
    revise(session, factory, town, 2, material=False)
    record_event(session, gil, town["norm"], 2, "opened")
    record_event(session, gil, town["norm"], 2, "delivered")
    session.commit()
    body, page = ask(client, town, gil)
    assert_recommends(body, page, "fair_to_hold", "meets")
    assert body["highest_level"] == "endorsed" and body["current_level"] == "endorsed"
    revise(session, factory, town, 3)
    record_event(session, gil, town["norm"], 3, "delivered")
    session.commit()
    body, page = ask(client, town, gil)
    assert body["highest_level"] == "endorsed" and body["highest_level_version"] == 1
    assert "Gil read and endorsed version 1." in page["answer"]
    assert "Then Gil was sent version 3 but has not opened it." in page["answer"]
    assert_recommends(body, page, "share_changes", "short")


STATE_FOR_CODE = {
    "share_norm": "not_opened",
    "share_changes": "changed",
    "remind": "not_read",
    "ask_understanding": "exposed",
    "discuss_assumptions": "exposed",
    "fair_to_hold": "exposed",
}


def surfaces(session, town, people):
    """What each surface says about each person: must be one story."""
    norm = town["norm"]
    session.expire_all()
    unexposed = {user.id for user, _ in unexposed_members(session, norm)}
    nudged = {n.member_id for n in nudge(session, town["steward"], norm)}
    session.rollback()
    counts = coverage(session, norm)
    exposed = 0
    for person in people:
        answer = standing(session, norm, person)
        summary = session.get(ExposureSummary, (person.id, norm.id))
        queued = {item.norm.id for item in reading_queue(session, person)}
        code = answer.recommendation.code
        assert (
            reading_state(summary, norm.last_material_version_number) == (STATE_FOR_CODE[code])
        ), (person.display_name, code)
        # Nobody is listed or nudged about their own norm, nor nudged by themselves.
        is_author = person.id == norm.author_id
        is_nudger = person.id == town["steward"].id
        assert (person.id in unexposed) == (not answer.fully_exposed and not is_author), (
            person.display_name
        )
        assert (person.id in nudged) == (
            not answer.fully_exposed and not is_author and not is_nudger
        ), person.display_name
        if person.id != norm.author_id:
            assert (norm.id in queued) == (not answer.fully_exposed), person.display_name
        exposed += answer.fully_exposed
    assert counts.exposed == exposed


def test_every_surface_agrees_after_minor_and_material_revisions(session, factory, town):
    norm = town["norm"]
    names = ("Never", "Sent", "Opened", "Read", "Endorsed", "Glanced")
    people = {name: member(factory, town, name) for name in names}
    record_event(session, people["Sent"], norm, 1, "delivered")
    record_event(session, people["Opened"], norm, 1, "opened")
    record_event(session, people["Read"], norm, 1, "read")
    record_response(session, norm, people["Endorsed"], "yes", "endorse")
    record_response(session, norm, people["Glanced"], "yes", "endorse")
    session.commit()
    everyone = [*people.values(), town["hannah"], town["steward"], town["checker"]]
    surfaces(session, town, everyone)
    revise(session, factory, town, 2, material=False)
    record_event(session, people["Glanced"], norm, 2, "opened")
    session.commit()
    surfaces(session, town, everyone)
    revise(session, factory, town, 3)
    record_event(session, people["Glanced"], norm, 3, "opened")
    record_event(session, people["Sent"], norm, 3, "delivered")
    session.commit()
    surfaces(session, town, everyone)
    assert standing(session, norm, people["Glanced"]).recommendation.code == "share_changes"


def test_the_norm_page_tells_an_earlier_reader_what_changed(client, session, factory, town):
    ella = member(factory, town, "Ella")
    record_response(session, town["norm"], ella, "yes", "endorse")
    session.commit()
    revise(session, factory, town, 2)
    login(client, ella)
    community, norm = town["community"], town["norm"]
    page = client.get(f"/c/{community.slug}/norms/{norm.slug}").get_data(as_text=True)
    status = re.search(r'id="exposure-status"[^>]*>(.*?)</p>', page, re.S).group(1)
    assert "You last read version 1; it has changed materially since." in " ".join(status.split())
