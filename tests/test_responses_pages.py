"""Responding to a norm through the norm page, and the response history page."""

import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from normhub.norms.services import AssumptionInput, revise_norm
from normhub.responses.forms import ResponseForm
from normhub.responses.models import Response
from normhub.responses.services import AssumptionAnswer, record_response


def url(norm, suffix=""):
    return f"/c/{norm.community.slug}/norms/{norm.slug}{suffix}"


def answer_form(norm, understood="yes", endorsement="endorse", reason="", rows=None, **extra):
    version = norm.current_version
    data = {
        "version_number": str(version.number),
        "understood": understood,
        "endorsement": endorsement,
        "reason": reason,
    }
    rows = rows or {}
    for index, assumption in enumerate(version.assumptions):
        data[f"assumptions-{index}-assumption_id"] = str(assumption.id)
        if index in rows:
            row_understood, agreement, row_reason = rows[index]
            data[f"assumptions-{index}-understood"] = row_understood
            data[f"assumptions-{index}-agreement"] = agreement
            data[f"assumptions-{index}-reason"] = row_reason
    data = {k: v for k, v in data.items() if v is not None}
    data.update(extra)
    return data


def count_responses(session):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Response))


def checked(html, name):
    """The value of the checked radio button called ``name``."""
    match = re.search(
        rf'<input checked id="[^"]+" name="{re.escape(name)}" type="radio" value="(\w+)"', html
    )
    return match.group(1) if match else None


def test_anonymous_is_asked_to_log_in(factory, session, client):
    norm = factory.norm(factory.community())
    html = client.get(url(norm)).get_data(as_text=True)
    assert "Log in to respond" in html
    assert 'action="' + url(norm, "/respond") not in html
    response = client.post(url(norm, "/respond"), data=answer_form(norm))
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get(url(norm, "/my-responses")).status_code == 302
    assert count_responses(session) == 0


def test_non_member_cannot_respond(factory, session, client, login_as):
    norm = factory.norm(factory.community())
    login_as(factory.user())
    html = client.get(url(norm)).get_data(as_text=True)
    assert "Only members of" in html
    assert client.post(url(norm, "/respond"), data=answer_form(norm)).status_code == 403
    assert count_responses(session) == 0


def test_draft_norm_takes_no_responses(factory, session, client, login_as):
    community = factory.community()
    norm = factory.norm(community, status="draft")
    login_as(factory.member(community))
    assert "Responses open when the norm is open for discussion" in client.get(url(norm)).get_data(
        as_text=True
    )
    assert client.post(url(norm, "/respond"), data=answer_form(norm)).status_code == 403


def test_member_responds_and_sees_prefilled_form(factory, session, client, login_as):
    community = factory.community()
    norm = factory.norm(community)
    reader = factory.member(community)
    login_as(reader)
    data = answer_form(
        norm,
        understood="partly",
        endorsement="undecided",
        reason="Depends on the source.",
        rows={1: ("yes", "disagree", "Corrections do travel.")},
    )
    response = client.post(url(norm, "/respond"), data=data)
    assert response.status_code == 302
    assert count_responses(session) == 1
    saved = session.scalar(select(Response))
    assert (saved.understood, saved.endorsement, saved.user_id) == (
        "partly",
        "undecided",
        reader.id,
    )
    assert [(a.agreement, a.reason) for a in saved.assumption_responses] == [
        ("disagree", "Corrections do travel.")
    ]
    html = client.get(url(norm)).get_data(as_text=True)
    assert checked(html, "understood") == "partly"
    assert checked(html, "endorsement") == "undecided"
    assert checked(html, "assumptions-1-agreement") == "disagree"
    assert checked(html, "assumptions-0-agreement") is None
    assert "Depends on the source." in html
    assert 'class="respondents">1<' in html


def test_history_keeps_every_change(factory, session, client, login_as):
    community = factory.community()
    norm = factory.norm(community)
    reader = factory.member(community)
    other = factory.member(community)
    record_response(session, norm, other, "no", "reject", "Someone else's view.")
    login_as(reader)
    client.post(url(norm, "/respond"), data=answer_form(norm, endorsement="endorse"))
    client.post(
        url(norm, "/respond"),
        data=answer_form(norm, endorsement="reject", reason="Changed my mind."),
    )
    assert count_responses(session) == 3
    html = client.get(url(norm, "/my-responses")).get_data(as_text=True)
    assert html.count('class="card response-entry"') == 2
    assert html.index("Changed my mind.") < html.index(">endorse<")
    assert "Someone else&#39;s view." not in html
    assert html.count("current answer") == 1


def test_stale_response_is_announced(factory, session, client, login_as):
    community = factory.community()
    norm = factory.norm(community)
    reader = factory.member(community)
    record_response(session, norm, reader, "yes", "endorse")
    first = norm.current_version.assumptions[0]
    revise_norm(
        session,
        norm,
        norm.author,
        factory.draft(assumptions=[AssumptionInput(first.statement, key=first.key)]),
        "Dropped the second assumption.",
        True,
    )
    session.commit()
    login_as(reader)
    html = client.get(url(norm)).get_data(as_text=True)
    assert "You responded to v1; the norm is now v2." in html
    assert "diff?from=1&amp;to=2" in html
    assert checked(html, "endorsement") is None
    # Their old answer no longer counts for the current version.
    assert "Nobody has responded to this version yet." in html


def test_answer_to_an_outdated_form_is_not_filed(factory, session, client, login_as):
    community = factory.community()
    norm = factory.norm(community)
    reader = factory.member(community)
    old_form = answer_form(norm, rows={0: ("yes", "agree", "")})
    revise_norm(session, norm, norm.author, factory.draft(title="A new title"), "Retitled.", True)
    session.commit()
    login_as(reader)
    response = client.post(url(norm, "/respond"), data=old_form)
    assert response.status_code == 409
    assert "The norm changed to version 2 while you were reading" in response.get_data(as_text=True)
    assert count_responses(session) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"understood": None}, "Say whether you understood the norm."),
        ({"endorsement": "maybe"}, "Say whether you endorse the norm."),
        ({"rows": {0: ("yes", "", "")}}, "Answer both questions for assumption 1."),
        ({"reason": "x" * 2001}, "must be at most 2000 characters"),
    ],
)
def test_invalid_responses_are_400(factory, session, client, login_as, changes, message):
    community = factory.community()
    norm = factory.norm(community)
    login_as(factory.member(community))
    response = client.post(url(norm, "/respond"), data=answer_form(norm, **changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count_responses(session) == 0


def test_aggregates_and_crux_on_the_page(factory, session, client):
    community = factory.community()
    norm = factory.norm(community)
    first, second = norm.current_version.assumptions
    answers = [
        ("yes", "endorse", "agree", "disagree"),
        ("yes", "reject", "agree", "disagree"),
        ("partly", "undecided", "unsure", "agree"),
    ]
    for understood, endorsement, on_first, on_second in answers:
        record_response(
            session,
            norm,
            factory.member(community),
            understood,
            endorsement,
            answers={
                first.id: AssumptionAnswer("yes", on_first),
                second.id: AssumptionAnswer("yes", on_second),
            },
        )
    session.commit()
    html = client.get(url(norm)).get_data(as_text=True)
    assert 'class="respondents">3<' in html
    understood = re.search(r"<h3>Understood the norm</h3>(.*?)</dl>", html, re.S).group(1)
    assert re.search(r'tally-yes">\s*<dt>Yes</dt>\s*<dd><span class="count">2<', understood)
    assert re.search(r'tally-partly">\s*<dt>Partly</dt>\s*<dd><span class="count">1<', understood)
    assert (
        'The crux: <a href="#assumption-2">assumption 2</a> is the most disputed (2 disagree)'
        in html
    )
    assert '<li id="assumption-2" class="crux">' in html
    assert '<li id="assumption-1" class="crux">' not in html
    assert 'aria-label="67%"><rect width="67" height="1">' in html  # 2 of 3 disagree on the crux


def test_the_form_written_out_is_what_its_fields_would_render(app):
    """_respond.html writes the radios, reasons and row ids out by hand (a norm page has
    dozens): each must be what WTForms would render, answered, refused and escaped alike."""
    posted = MultiDict(
        {
            "understood": "partly",
            "reason": 'Fine <b>"&amp;</b>',
            "assumptions-0-assumption_id": '7"><x',
            "assumptions-0-agreement": "disagree",
            "assumptions-0-reason": "a bell\x07",
        }
    )
    with app.test_request_context("/"):
        form = ResponseForm(formdata=posted, meta={"csrf": False})
        form.validate()
        row = form.assumptions.entries[0].form
        assert row.reason.errors and not form.reason.errors
        macros = app.jinja_env.get_template("responses/_respond.html").make_module({})
        for field in (form.understood, form.endorsement, row.understood, row.agreement):
            written = str(macros.choices(field, "Q"))
            for option in field:
                assert f"<label>{option()} {option.label.text}</label>" in written
        for field in (form.reason, row.reason):
            written = str(macros.reason(field, "Why?"))
            assert str(field.label(class_="visually-hidden")) in written
            assert str(field(**{"aria-invalid": "true" if field.errors else False})) in written
        assert str(macros.hidden(row.assumption_id)) == str(row.assumption_id())
