"""Answering a norm: how others answered stays out of sight until I answer (a community
setting, on by default), the response form is compact, and after a material revision
it carries my earlier answers over, marking what changed."""

from __future__ import annotations

import re
import runpy

import pytest
from sqlalchemy import inspect, text

from normhub.cli import downgrade_database, upgrade_database
from normhub.config import PROJECT_ROOT
from normhub.db import make_engine
from normhub.norms.services import AssumptionInput, revise_norm
from normhub.responses.services import AssumptionAnswer, latest_response, record_response
from tests.conftest import fresh_database
from tests.factories import Factory


@pytest.fixture
def scene(factory, session):
    community = factory.community()
    author = factory.member(community, name="Ada Author")
    steward = factory.member(community, role="steward", name="Stella Steward")
    reader = factory.member(community, name="Rita Reader")
    norm = factory.norm(community, author, title="Quote figures with their base")
    first, second = norm.current_version.assumptions
    for n in range(3):
        record_response(
            session,
            norm,
            factory.member(community, name=f"Early {n}"),
            "yes",
            "endorse",
            answers={
                first.id: AssumptionAnswer("yes", "agree"),
                second.id: AssumptionAnswer("yes", "disagree"),
            },
        )
    session.commit()
    return {
        "community": community,
        "norm": norm,
        "author": author,
        "steward": steward,
        "reader": reader,
    }


def norm_page(client, norm, query: str = "") -> str:
    response = client.get(f"/c/{norm.community.slug}/norms/{norm.slug}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def shows_tallies(page: str) -> bool:
    return '<dl class="tally">' in page


def shows_crux(page: str) -> bool:
    return "crux" in page.lower().replace("glossary#crux", "").replace('id="crux"', "")


# -- Tallies after answering -------------------------------------------------------------------


def test_a_member_sees_how_others_answered_once_they_answered(scene, client, login_as, session):
    norm, reader = scene["norm"], scene["reader"]
    login_as(reader)
    page = norm_page(client, norm)
    assert not shows_tallies(page) and not shows_crux(page)
    assert '<strong class="respondents">3</strong> members have responded' in page
    assert "stays out of sight until you have answered" in page
    link = re.search(r'<a href="([^"]+)" class="show-tallies">Show how others answered</a>', page)
    assert link.group(1).endswith("?tallies=1#responses")

    # Asking is a plain link: the tallies and the crux, for this page.
    asked = norm_page(client, norm, "?tallies=1")
    assert shows_tallies(asked) and "The crux:" in asked and "Crux: most disputed" in asked
    assert not shows_tallies(norm_page(client, norm))

    # Answering shows them for good.
    data = {"version_number": "1", "understood": "yes", "endorsement": "undecided"}
    for index, assumption in enumerate(norm.current_version.assumptions):
        data[f"assumptions-{index}-assumption_id"] = str(assumption.id)
    sent = client.post(f"/c/{norm.community.slug}/norms/{norm.slug}/respond", data=data)
    assert sent.status_code == 302
    answered = norm_page(client, norm)
    assert shows_tallies(answered) and "The crux:" in answered
    assert "Show how others answered" not in answered


def test_after_a_material_revision_they_wait_for_an_answer_to_the_new_text(
    scene, client, login_as, session
):
    norm, reader = scene["norm"], scene["reader"]
    record_response(session, norm, reader, "yes", "endorse")
    session.commit()
    login_as(reader)
    assert shows_tallies(norm_page(client, norm))
    revise_norm(session, norm, scene["author"], scene_draft(norm, "Reworded."), "Wording.", False)
    session.commit()
    assert shows_tallies(norm_page(client, norm))  # a minor change: the answer stands
    revise_norm(session, norm, scene["author"], scene_draft(norm, "New sense."), "New sense.", True)
    session.commit()
    assert not shows_tallies(norm_page(client, norm))


def scene_draft(norm, body: str):
    version = norm.current_version  # the assumptions stay as they are, keys and all
    return Factory(None).draft(
        title=version.title,
        body=body,
        assumptions=[
            AssumptionInput(a.statement, a.explanation, key=a.key) for a in version.assumptions
        ],
    )


def test_who_else_sees_the_tallies_at_once(scene, client, login_as, session, factory):
    norm = scene["norm"]
    # Visitors and outsiders cannot answer: nothing to anchor.
    assert shows_tallies(norm_page(client, norm))
    login_as(factory.user("Otto Outsider"))
    assert shows_tallies(norm_page(client, norm))


def test_stewards_can_turn_the_setting_off(scene, client, login_as, session):
    community, steward = scene["community"], scene["steward"]
    login_as(steward)
    settings_url = f"/c/{community.slug}/settings"
    form = client.get(settings_url).get_data(as_text=True)
    box = re.search(r'<input[^>]*name="hide_tallies_until_answered"[^>]*>', form).group(0)
    assert "checked" in box  # on by default
    assert not shows_tallies(norm_page(client, scene["norm"]))
    saved = client.post(
        settings_url,
        data={
            "name": community.name,
            "description": "",
            "visibility": "public",
            "join_policy": "open",
            "coverage_threshold_pct": "75",
            "coverage_min_responses": "3",
        },
    )
    assert saved.status_code == 302
    session.refresh(community)
    assert community.hide_tallies_until_answered is False
    assert shows_tallies(norm_page(client, scene["norm"]))


def migration_before_this_one() -> str:
    """The revision the setting's migration follows (read from it: it may be renumbered)."""
    (path,) = (PROJECT_ROOT / "migrations" / "versions").glob("*_tallies_after_answering.py")
    return runpy.run_path(str(path))["down_revision"]


def test_the_migration_turns_the_setting_on_for_every_community(tmp_path):
    with fresh_database(tmp_path) as url:
        before = migration_before_this_one()
        upgrade_database(url, before)
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO communities (id, slug, name, description, visibility,"
                        " join_policy, coverage_threshold_pct, coverage_min_responses,"
                        " created_at) VALUES (1, 'old', 'Old', '', 'public', 'open', 75, 3,"
                        " '2026-01-01 00:00:00')"
                    )
                )
            upgrade_database(url)
            with engine.connect() as connection:
                value = connection.execute(
                    text("SELECT hide_tallies_until_answered FROM communities")
                ).scalar_one()
            assert value in (True, 1)
            downgrade_database(url, before)
            columns = {c["name"] for c in inspect(engine).get_columns("communities")}
            assert "hide_tallies_until_answered" not in columns
            with engine.connect() as connection:
                assert connection.execute(text("SELECT slug FROM communities")).scalar() == "old"
        finally:
            engine.dispose()


# -- The response form -------------------------------------------------------------------------


def response_form(page: str) -> str:
    return re.search(r'<form[^>]*class="response-form".*?</form>', page, re.S).group(0)


def checked_values(form: str) -> dict[str, str]:
    return {
        name: value
        for tag in re.findall(r"<input[^>]*>", form)
        if "checked" in tag
        for name, value in [
            (
                re.search(r'name="([^"]+)"', tag).group(1),
                re.search(r'value="([^"]*)"', tag).group(1),
            )
        ]
    }


def test_the_form_is_one_row_a_question_with_reasons_folded(scene, client, login_as):
    login_as(scene["reader"])
    form = response_form(norm_page(client, scene["norm"]))
    assert form.count('class="radio-row"') == 2 + 2 * 2  # the norm, then each assumption
    assert form.count('<div class="answer-row">') == 3
    # Reasons wait in closed <details> until wanted.
    assert form.count('<details class="reason">') == 3
    assert "<summary>Add a reason (optional)</summary>" in form
    assert form.count("<summary>Why? (optional)</summary>") == 2


def test_a_reason_already_given_shows_unfolded(scene, client, login_as, session):
    norm, reader = scene["norm"], scene["reader"]
    record_response(session, norm, reader, "yes", "endorse", "Fair to readers.")
    session.commit()
    login_as(reader)
    form = response_form(norm_page(client, norm))
    assert '<details class="reason" open>' in form and "Fair to readers." in form


def test_after_a_material_revision_earlier_answers_carry_over_by_assumption(
    scene, client, login_as, session, factory
):
    norm, reader, author = scene["norm"], scene["reader"], scene["author"]
    first, second = norm.current_version.assumptions
    record_response(
        session,
        norm,
        reader,
        "yes",
        "endorse",
        answers={
            first.id: AssumptionAnswer("yes", "agree", "Seen it happen."),
            second.id: AssumptionAnswer("partly", "disagree"),
        },
    )
    session.commit()
    revised = factory.draft(
        body="Name the base of every figure.",
        assumptions=[
            AssumptionInput(first.statement, first.explanation, key=first.key),
            AssumptionInput("Cherry-picked figures mislead for years.", key=second.key),
            AssumptionInput("Readers trust a stated base more."),
        ],
    )
    revise_norm(session, norm, author, revised, "Sharper.", True)
    session.commit()

    login_as(reader)
    page = norm_page(client, norm)
    form = response_form(page)
    assert "You responded to v1; the norm is now v2." in page
    # The norm as a whole is asked again; the earlier answer is shown, not filled in.
    assert "On v1 you answered: understood yes, endorse." in form
    checked = checked_values(form)
    assert "understood" not in checked and "endorsement" not in checked
    # Each assumption keeps its answer, matched by key; changed and new ones are marked.
    assert checked["assumptions-0-understood"] == "yes"
    assert checked["assumptions-0-agreement"] == "agree"
    assert "Seen it happen." in form
    assert checked["assumptions-1-understood"] == "partly"
    assert checked["assumptions-1-agreement"] == "disagree"
    assert "assumptions-2-understood" not in checked
    rows = re.findall(r'<li class="assumption-answer([^"]*)">(.*?)</li>', form, re.S)
    assert [marks.strip() for marks, _ in rows] == [
        "carried-same",
        "carried-changed",
        "carried-new",
    ]
    assert "Changed since you answered" in rows[1][1] and "Changed since" not in rows[0][1]
    assert (
        "It read: <q>Cherry-picked figures do lasting harm to trust.</q>; "
        "you answered understood: partly, disagree." in " ".join(rows[1][1].split())
    )
    assert '<span class="badge answer-mark-new">New</span>' in rows[2][1]

    # Sending it as shown records the carried answers on the new version.
    session.refresh(norm)
    version = norm.current_version
    assert version.number == 2
    data = {"version_number": "2", "understood": "yes", "endorsement": "endorse"}
    for index, assumption in enumerate(version.assumptions):
        data[f"assumptions-{index}-assumption_id"] = str(assumption.id)
    data.update({key: value for key, value in checked.items() if key.startswith("assumptions")})
    sent = client.post(f"/c/{norm.community.slug}/norms/{norm.slug}/respond", data=data)
    assert sent.status_code == 302
    session.rollback()
    latest = latest_response(session, norm, reader)
    answers = {a.assumption.key: (a.understood, a.agreement) for a in latest.assumption_responses}
    assert answers == {first.key: ("yes", "agree"), second.key: ("partly", "disagree")}


def test_a_minor_revision_keeps_everything_filled_in_and_unmarked(scene, client, login_as, session):
    norm, reader = scene["norm"], scene["reader"]
    first, _second = norm.current_version.assumptions
    record_response(
        session,
        norm,
        reader,
        "yes",
        "endorse",
        answers={first.id: AssumptionAnswer("yes", "agree")},
    )
    session.commit()
    revise_norm(session, norm, scene["author"], scene_draft(norm, "Typo fixed."), "Typo.", False)
    session.commit()
    login_as(reader)
    form = response_form(norm_page(client, norm))
    checked = checked_values(form)
    assert checked["understood"] == "yes" and checked["assumptions-0-agreement"] == "agree"
    assert "carried-" not in form and "Changed since" not in form
