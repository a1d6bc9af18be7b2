"""The version in force: a material revision of a norm in force goes back through the gate."""

from __future__ import annotations

import html

import pytest
from alembic import command
from sqlalchemy import select, text

from normhub.api import services as api_services
from normhub.cli import alembic_config, upgrade_database
from normhub.exposure.ledger import record_event
from normhub.norms.models import Norm, StatusChange
from normhub.norms.services import AssumptionInput, change_status, revise_norm
from normhub.responses.services import record_response
from tests.conftest import login
from tests.test_api_exposure import assert_matches_schema

PENDING = "Version 1 is in force; version 2 is proposed and needs the community to read it."


@pytest.fixture
def forum(factory, session, client):
    """A norm in force on version 1, understood by four of seven members, the steward logged in.

    Members: the owner, Hannah (the author), the steward, Felix (checks, reads
    nothing), Jonas and Mia (endorsed version 1), Rita (will read version 2 only).
    """
    community = factory.community(coverage_threshold_pct=50, coverage_min_responses=1)
    hannah = factory.member(community, name="Hannah Cho")
    steward = factory.member(community, role="steward", name="Sam Steward")
    felix = factory.member(community, name="Felix Checker")
    jonas = factory.member(community, name="Jonas")
    mia = factory.member(community, name="Mia")
    rita = factory.member(community, name="Rita")
    norm = factory.norm(community, hannah, title="Quote statistics with their denominators")
    for reader in (steward, jonas, mia):
        record_response(session, norm, reader, "yes", "endorse")
    change_status(session, norm, steward, "in_force")
    session.commit()
    _, secret = api_services.create_token(session, felix, "checks")
    session.commit()
    login(client, steward)
    return {
        "community": community,
        "norm": norm,
        "hannah": hannah,
        "steward": steward,
        "jonas": jonas,
        "mia": mia,
        "rita": rita,
        "headers": {"Authorization": f"Bearer {secret}"},
    }


def revise(session, factory, forum, *, material: bool, summary: str):
    norm = forum["norm"]
    version = norm.current_version
    draft = factory.draft(
        body=version.body + f"\n\n{summary}",
        assumptions=[
            AssumptionInput(a.statement, a.explanation, a.key) for a in version.assumptions
        ],
    )
    revise_norm(session, norm, forum["hannah"], draft, summary, material)
    session.commit()


def versions_row(session, norm) -> tuple:
    session.expire_all()
    return session.execute(
        select(
            Norm.status,
            Norm.current_version_number,
            Norm.last_material_version_number,
            Norm.in_force_version_number,
        ).where(Norm.id == norm.id)
    ).one()


def check(client, forum, person) -> dict:
    community, norm = forum["community"], forum["norm"]
    response = client.get(
        f"/api/v1/communities/{community.slug}/norms/{norm.slug}/exposure/{person.id}",
        headers=forum["headers"],
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_matches_schema(response.get_json(), "ExposureReport")
    return response.get_json()


def norm_page(client, forum) -> str:
    community, norm = forum["community"], forum["norm"]
    return html.unescape(client.get(f"/c/{community.slug}/norms/{norm.slug}").get_data(True))


def put_in_force(client, forum):
    community, norm = forum["community"], forum["norm"]
    return client.post(
        f"/c/{community.slug}/norms/{norm.slug}/status",
        data={"to_status": "in_force"},
        follow_redirects=True,
    )


def test_a_material_revision_waits_for_the_gate_and_the_check_answers_about_version_1(
    session, factory, client, forum
):
    norm = forum["norm"]
    assert versions_row(session, norm) == ("in_force", 1, 1, 1)
    revise(session, factory, forum, material=True, summary="Now covers charts too.")
    assert versions_row(session, norm) == ("in_force", 2, 2, 1)

    page = norm_page(client, forum)
    assert PENDING in page
    assert "Put version 2 in force</button>" in page

    record_event(session, forum["jonas"], norm, 2, "opened")  # a glance at the proposal
    record_event(session, forum["rita"], norm, 2, "read")
    session.commit()
    jonas = check(client, forum, forum["jonas"])
    assert jonas["recommendation"]["code"] == "fair_to_hold"
    assert (jonas["in_force_version"], jonas["pending_version"]) == (1, 2)
    assert (jonas["current_version"], jonas["changes_since_read"]) == (1, [])
    assert jonas["answer"].startswith(
        "This norm has been in force since "
        f"{norm.status_changed_at:%Y-%m-%d}. Version 1 is in force; version 2 is proposed and "
        "not in force until enough of the community has read it, so this answer is about "
        "version 1. Jonas read and endorsed version 1."
    )
    # Reading only the proposal is not reading the text in force.
    rita = check(client, forum, forum["rita"])
    assert rita["recommendation"]["code"] == "share_norm"
    assert (rita["highest_level"], rita["in_force_version"]) == ("none", 1)

    # Only Hannah (writing it) has understood version 2: 1 of 7, 4 needed.
    refused = put_in_force(client, forum)
    assert "Not enough of the community has understood this version yet." in html.unescape(
        refused.get_data(as_text=True)
    )
    assert versions_row(session, norm) == ("in_force", 2, 2, 1)

    for reader in ("steward", "jonas", "rita"):
        record_response(session, norm, forum[reader], "yes", "endorse")
    session.commit()
    accepted = html.unescape(put_in_force(client, forum).get_data(as_text=True))
    assert "Version 2 is now in force." in accepted
    assert PENDING not in accepted and "Put version" not in accepted
    assert versions_row(session, norm) == ("in_force", 2, 2, 2)
    assert session.execute(
        select(StatusChange.from_status, StatusChange.to_status)
        .where(StatusChange.norm_id == norm.id)
        .order_by(StatusChange.id.desc())
        .limit(1)
    ).one() == ("in_force", "in_force")

    jonas = check(client, forum, forum["jonas"])
    assert jonas["recommendation"]["code"] == "fair_to_hold"
    assert (jonas["in_force_version"], jonas["pending_version"]) == (2, None)
    mia = check(client, forum, forum["mia"])  # endorsed version 1 only
    assert mia["recommendation"]["code"] == "share_changes"
    assert [c["number"] for c in mia["changes_since_read"]] == [2]


def test_a_minor_revision_of_the_text_in_force_is_in_force_at_once(session, factory, client, forum):
    norm = forum["norm"]
    revise(session, factory, forum, material=False, summary="Fixed a typo.")
    assert versions_row(session, norm) == ("in_force", 2, 1, 2)
    page = norm_page(client, forum)
    assert "is proposed and needs the community to read it" not in page
    assert "Put version" not in page
    jonas = check(client, forum, forum["jonas"])
    assert jonas["recommendation"]["code"] == "fair_to_hold"
    assert (jonas["in_force_version"], jonas["pending_version"]) == (2, None)
    refused = put_in_force(client, forum)
    assert "The current version of this norm is already in force." in html.unescape(
        refused.get_data(as_text=True)
    )


def test_a_minor_revision_of_a_proposal_leaves_the_earlier_version_in_force(
    session, factory, client, forum
):
    norm = forum["norm"]
    revise(session, factory, forum, material=True, summary="Now covers charts too.")
    revise(session, factory, forum, material=False, summary="Fixed a typo.")
    assert versions_row(session, norm) == ("in_force", 3, 2, 1)
    assert (
        "Version 1 is in force; version 3 is proposed and needs the community to read it."
        in norm_page(client, forum)
    )
    mia = check(client, forum, forum["mia"])
    assert mia["recommendation"]["code"] == "fair_to_hold"
    assert (mia["in_force_version"], mia["pending_version"]) == (1, 3)


def test_migration_backfills_the_version_in_force(session, factory, database_url):
    community = factory.community()
    in_force = factory.norm(community, status="in_force", title="In force")
    revise_norm(session, in_force, in_force.author, factory.draft(body="Typo."), "Typo.", False)
    proposal = factory.norm(community, title="Still open")
    session.commit()
    ids = (in_force.id, proposal.id)
    session.close()
    command.downgrade(alembic_config(database_url), "0008")
    upgrade_database(database_url)
    rows = session.execute(
        text("SELECT id, in_force_version_number FROM norms WHERE id IN (:a, :b) ORDER BY id"),
        {"a": ids[0], "b": ids[1]},
    ).all()
    assert [tuple(row) for row in rows] == [(ids[0], 2), (ids[1], None)]
