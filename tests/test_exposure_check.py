"""Exposure check stories: what the check answers, in plain words, for each situation."""

from __future__ import annotations

import pytest

from normhub.communities.services import leave
from normhub.db import utcnow
from normhub.errors import Forbidden
from normhub.exposure.check import check_exposure, record_check
from normhub.exposure.check_records import checks_about
from normhub.exposure.coverage import coverage
from normhub.exposure.ledger import record_event
from normhub.exposure.models import ExposureSummary
from normhub.norms.models import NormPrerequisite
from normhub.norms.services import AssumptionInput, revise_norm, set_prerequisites
from normhub.responses.services import AssumptionAnswer, record_response


@pytest.fixture
def world(factory):
    community = factory.community()
    author = factory.member(community, name="Ada")
    charlie = factory.member(community, name="Charlie")
    norm = factory.norm(community, author)
    return community, author, charlie, norm


def revise(session, factory, norm, *, material, summary, assumptions=None):
    version = norm.current_version
    draft = factory.draft(
        body=version.body + f"\n\nRevision note {version.number + 1}.",
        assumptions=assumptions
        or [AssumptionInput(a.statement, a.explanation, a.key) for a in version.assumptions],
    )
    new = revise_norm(session, norm, norm.author, draft, summary, material)
    session.commit()
    return new


def test_never_opened(session, world):
    _, _, charlie, norm = world
    report = check_exposure(session, norm, charlie)
    assert report.level == "none"
    assert report.latest_version_seen is None
    assert not report.fully_exposed and not report.stale
    assert report.answer == (
        "This norm is open for discussion: nobody is bound by it yet. "
        "Charlie has never opened this norm. Discuss it with them, don't enforce it."
    )
    assert report.recommendation.code == "not_in_force"
    assert report.to_dict()["norm"] == {"id": norm.id, "slug": norm.slug, "title": norm.title}


def test_delivered_only(session, world):
    _, _, charlie, norm = world
    record_event(session, charlie, norm, 1, "delivered")
    session.commit()
    report = check_exposure(session, norm, charlie)
    assert report.level == "delivered" and report.level_version == 1
    assert "Charlie was sent version 1 but has not opened it." in report.answer
    assert [e.kind for e in report.timeline] == ["delivered"]
    assert not report.fully_exposed


def test_opened_old_version_then_material_revision_is_stale(session, factory, world):
    _, _, charlie, norm = world
    record_event(session, charlie, norm, 1, "opened")
    record_event(session, charlie, norm, 1, "read")
    session.commit()
    v1 = norm.current_version
    first, second = v1.assumptions
    revise(session, factory, norm, material=False, summary="Fixed a typo.")
    revise(
        session,
        factory,
        norm,
        material=True,
        summary="Now also covers charts.",
        assumptions=[
            AssumptionInput("Most readers cannot check a chart's base themselves.", key=first.key),
            AssumptionInput(second.statement, second.explanation, second.key),
            AssumptionInput("Charts mislead more quietly than numbers."),
        ],
    )
    report = check_exposure(session, norm, charlie)
    assert report.stale
    assert report.level == "read" and report.level_version == 1
    assert report.latest_version_seen == 1 and report.current_version == 3
    assert report.current_level == "none"
    assert not report.fully_exposed
    assert (
        "Charlie read version 1. The norm has changed materially since version 1 (now version 3)"
        in report.answer
    )
    assert "Now also covers charts." in report.answer
    assert "Fixed a typo." not in report.answer  # minor changes are not news
    [change] = report.material_changes_since
    assert change["number"] == 3
    assert change["assumptions_added"] == ["Charts mislead more quietly than numbers."]
    assert change["assumptions_reworded"] == [
        "Most readers cannot check a chart's base themselves."
    ]
    assert change["assumptions_removed"] == []
    # Reading the new text makes them current again.
    record_event(session, charlie, norm, 3, "read")
    session.commit()
    report = check_exposure(session, norm, charlie)
    assert not report.stale and report.fully_exposed
    assert "Charlie read version 3. They have not said whether they understood it." in (
        report.answer
    )
    summary = session.get(ExposureSummary, (charlie.id, norm.id))
    assert summary.highest_level_name == "read" and summary.highest_level_version == 3


def test_minor_revision_keeps_exposure(session, factory, world):
    _, _, charlie, norm = world
    record_event(session, charlie, norm, 1, "read")
    session.commit()
    revise(session, factory, norm, material=False, summary="Clearer wording.")
    report = check_exposure(session, norm, charlie)
    assert norm.current_version_number == 2
    assert not report.stale and report.fully_exposed
    assert report.level == "read" and report.level_version == 1
    assert report.latest_version_seen == 1 and report.current_version == 2
    assert "Charlie read version 1." in report.answer and "changed" not in report.answer
    cov = coverage(session, norm)
    assert cov.levels["read"] == 1 and cov.stale == 0


def test_read_and_rejects_assumption_two(session, world):
    _, _, charlie, norm = world
    version = norm.current_version
    a1, a2 = version.assumptions
    record_response(
        session,
        norm,
        charlie,
        "yes",
        "undecided",
        answers={
            a1.id: AssumptionAnswer("yes", "agree"),
            a2.id: AssumptionAnswer("yes", "disagree", "Corrections travel fine here."),
        },
    )
    session.commit()
    report = check_exposure(session, norm, charlie)
    assert report.level == "understood"
    assert report.understood == "yes" and report.endorsement == "undecided"
    assert report.rejected_assumptions == [
        {"position": 2, "statement": a2.statement, "reason": "Corrections travel fine here."}
    ]
    assert (
        "Charlie read and understood version 1. On version 1 they said they are undecided "
        f"about endorsing it. They reject assumption 2 of version 1: “{a2.statement.rstrip('.')}”."
    ) in report.answer
    assert [a["agreement"] for a in report.assumption_answers] == ["agree", "disagree"]


def test_only_the_latest_response_answers_in_assumption_order(session, world):
    _, _, charlie, norm = world
    a1, a2 = norm.current_version.assumptions
    record_response(
        session,
        norm,
        charlie,
        "yes",
        "reject",
        answers={a1.id: AssumptionAnswer("yes", "disagree", "Not here.")},
    )
    # Answered second assumption first: the report still lists them by position.
    record_response(
        session,
        norm,
        charlie,
        "yes",
        "endorse",
        answers={
            a2.id: AssumptionAnswer("partly", "agree"),
            a1.id: AssumptionAnswer("yes", "agree"),
        },
    )
    session.commit()
    report = check_exposure(session, norm, charlie)
    assert [
        (a["position"], a["understood"], a["agreement"]) for a in report.assumption_answers
    ] == [
        (1, "yes", "agree"),
        (2, "partly", "agree"),
    ]
    assert report.rejected_assumptions == [] and report.endorsement == "endorse"
    assert "Charlie read and endorsed version 1. On version 1 they said they endorse it." in (
        report.answer
    )


def test_response_without_assumption_answers(session, world):
    _, _, charlie, norm = world
    record_response(session, norm, charlie, "no", "undecided")
    session.commit()
    report = check_exposure(session, norm, charlie)
    assert report.assumption_answers == [] and report.understood == "no"
    assert report.response_version == 1 and report.response_is_current
    assert "did not understand" in report.answer


def test_unread_prerequisite_is_transitive(session, factory, world):
    community, author, charlie, norm = world
    middle = factory.norm(community, author, title="Cite primary sources")
    base = factory.norm(community, author, title="Say where a claim comes from")
    set_prerequisites(session, norm, author, [middle])
    set_prerequisites(session, middle, author, [base])
    record_event(session, charlie, norm, 1, "read")
    record_event(session, charlie, middle, 1, "read")
    session.commit()
    report = check_exposure(session, norm, charlie)
    assert [n.id for n in report.unmet_prerequisites] == [base.id]
    assert not report.fully_exposed
    assert "Say where a claim comes from" in report.answer
    record_event(session, charlie, base, 1, "read")
    session.commit()
    report = check_exposure(session, norm, charlie)
    assert report.unmet_prerequisites == [] and report.fully_exposed


def test_prerequisite_cycle_does_not_hang(session, factory, world):
    community, author, charlie, norm = world
    other = factory.norm(community, author, title="Another norm")
    # The norms service refuses cycles; data from elsewhere (an import, an older
    # release) may still hold one, and the check must survive it.
    session.add_all(
        [
            NormPrerequisite(norm_id=norm.id, prerequisite_id=other.id),
            NormPrerequisite(norm_id=other.id, prerequisite_id=norm.id),
        ]
    )
    session.commit()
    report = check_exposure(session, norm, charlie)
    assert [n.id for n in report.unmet_prerequisites] == [other.id]
    report = check_exposure(session, other, charlie)
    assert [n.id for n in report.unmet_prerequisites] == [norm.id]


def test_member_who_left(session, world):
    community, _, charlie, norm = world
    record_event(session, charlie, norm, 1, "read")
    leave(session, community, charlie)
    session.commit()
    report = check_exposure(session, norm, charlie)
    assert not report.is_member and report.left_community
    assert f"Charlie left this community on {utcnow():%Y-%m-%d}." in report.answer
    assert report.recommendation.code == "not_member"
    assert "read" in report.answer
    assert not report.fully_exposed


def test_not_a_member(session, factory, world):
    _, _, _, norm = world
    stranger = factory.user("Stranger")
    report = check_exposure(session, norm, stranger)
    assert "Stranger is not a member of this community." in report.answer
    assert report.recommendation.code == "not_member"
    assert not report.is_member and not report.left_community


def test_old_version_event_does_not_undo_current_exposure(session, factory, world):
    _, _, charlie, norm = world
    revise(session, factory, norm, material=True, summary="Rewritten.")
    record_event(session, charlie, norm, 2, "read")
    # Looking at the old version afterwards (the versions page) changes nothing current.
    record_event(session, charlie, norm, 1, "opened")
    session.commit()
    report = check_exposure(session, norm, charlie)
    assert not report.stale and report.level == "read" and report.latest_version_seen == 2


def test_check_recorded_and_visible_to_subject_only(session, factory, world):
    community, author, charlie, norm = world
    report = check_exposure(session, norm, charlie)
    checked_at = record_check(session, author, charlie, norm, report)
    session.commit()
    [entry] = checks_about(session, charlie, charlie).items
    seen = entry.check
    assert entry.shown  # a public community: Charlie may see who asked and what they were told
    assert seen.checker_id == author.id and seen.norm_id == norm.id
    assert seen.level == "none" and seen.answer == report.answer
    assert seen.recommendation == "not_in_force" and seen.as_of is None and seen.note is None
    assert seen.created_at == checked_at and seen.stale is False
    assert checks_about(session, author, author).items == []
    with pytest.raises(Forbidden):
        checks_about(session, charlie, author)


def test_report_to_dict_is_json_ready(session, world):
    import json

    _, _, charlie, norm = world
    record_event(session, charlie, norm, 1, "opened")
    session.commit()
    data = check_exposure(session, norm, charlie).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["level"] == "opened" and data["timeline"][0]["kind"] == "opened"
    assert data["first_seen_at"].endswith("Z")
