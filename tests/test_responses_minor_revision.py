"""After a minor revision, earlier answers stand: the norm page counts them and says so.

A story on the real page: a norm is answered, its wording is tidied (a minor
revision, twice), and the page, the tallies, the respondent's own panel and
the exposure check all agree that those answers are about the current text.
Then a material revision makes them stale, and the page asks again.
"""

from __future__ import annotations

import re

from normhub.exposure.standing import standing
from normhub.norms.services import AssumptionInput, revise_norm
from normhub.responses.services import AssumptionAnswer, aggregate_responses, record_response
from tests.test_responses_pages import answer_form, checked, url


def _revise(session, norm, factory, *, material: bool, reword: str = "", summary="Tidied."):
    version = norm.current_version
    assumptions = [
        AssumptionInput(a.statement + (reword if i == 1 else ""), a.explanation, a.key)
        for i, a in enumerate(version.assumptions)
    ]
    draft = factory.draft(
        title=norm.title,
        body=version.body + f"\n\nRevision {version.number + 1}.",
        assumptions=assumptions,
    )
    revise_norm(session, norm, norm.author, draft, summary, material)
    session.commit()
    session.expire_all()  # the norm's current_version is the new one


def _aggregate(html: str) -> str:
    return " ".join(re.search(r'<section class="aggregate".*?</section>', html, re.S)[0].split())


def _respond_panel(html: str) -> str:
    return " ".join(re.search(r'<section class="respond".*?</section>', html, re.S)[0].split())


def test_answers_stand_through_minor_revisions_and_not_a_material_one(
    factory, session, client, login_as
):
    community = factory.community()
    norm = factory.norm(community, title="Say what a number is out of")
    rosa = factory.member(community, name="Rosa")
    ben = factory.member(community, name="Ben")
    first, second = norm.current_version.assumptions
    record_response(
        session,
        norm,
        rosa,
        "yes",
        "endorse",
        answers={
            first.id: AssumptionAnswer("yes", "agree"),
            second.id: AssumptionAnswer("yes", "disagree", "Corrections travel too."),
        },
    )
    record_response(session, norm, ben, "partly", "undecided")
    session.commit()

    _revise(session, norm, factory, material=False, reword=" (reworded)")
    assert norm.current_version_number == 2 and norm.last_material_version_number == 1

    # The check says Rosa is current on what she answered...
    assert standing(session, norm, rosa).response_is_current
    # ...and so does the page: her answer is counted, and she is not asked again.
    login_as(rosa)
    html = client.get(url(norm)).get_data(as_text=True)
    tally = _aggregate(html)
    assert "Nobody has responded" not in tally
    assert 'class="respondents">2<' in tally
    assert "Answers to version 1 count: version 2 changed only wording." in tally
    # Her disagreement on assumption 2 is still the crux, carried to its new wording.
    assert (
        'The crux: <a href="#assumption-2">assumption 2</a> is the most disputed (1 disagree)'
        in (tally)
    )
    panel = _respond_panel(html)
    assert "You answered version 1; version 2 changed only wording, so your answer stands." in (
        panel
    )
    assert "answer again" not in panel and "You responded to v1" not in panel
    # The form holds her answers, on the current version's assumptions.
    assert checked(html, "endorsement") == "endorse"
    assert checked(html, "assumptions-1-agreement") == "disagree"
    assert "Corrections travel too." in panel

    # She may still change her mind on the current version; the tally follows.
    response = client.post(
        url(norm, "/respond"),
        data=answer_form(norm, "yes", "endorse", rows={1: ("yes", "agree", "")}),
    )
    assert response.status_code == 302
    session.expire_all()
    aggregate = aggregate_responses(session, norm)
    assert aggregate.respondents == 2 and aggregate.crux is None

    # A second minor revision: Ben's answer to version 1 still stands.
    _revise(session, norm, factory, material=False)
    client.post("/logout")
    login_as(ben)
    panel = _respond_panel(client.get(url(norm)).get_data(as_text=True))
    assert (
        "You answered version 1; versions 2 and 3 changed only wording, so your answer stands."
        in panel
    )
    assert checked(client.get(url(norm)).get_data(as_text=True), "endorsement") == "undecided"

    # A material revision: now the answers are about an older text.
    _revise(session, norm, factory, material=True, summary="A new argument.")
    html = client.get(url(norm)).get_data(as_text=True)
    assert "Nobody has responded to this version yet." in _aggregate(html)
    assert "You responded to v1; the norm is now v4." in _respond_panel(html)
    assert checked(html, "endorsement") is None
    assert not standing(session, norm, ben).response_is_current
