"""The JSON API: exposure checks, coverage, errors, and the OpenAPI document."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select

from normhub.api import services as api_services
from normhub.api.models import ApiToken
from normhub.api.views import OPENAPI_FILE
from normhub.communities.services import leave
from normhub.exposure.check import check_exposure
from normhub.exposure.coverage import coverage
from normhub.exposure.ledger import record_event
from normhub.exposure.models import ExposureCheck
from normhub.norms.services import AssumptionInput, revise_norm
from normhub.responses.services import AssumptionAnswer, record_response

OPENAPI = json.loads(OPENAPI_FILE.read_text())
_REGISTRY = Registry().with_resource(
    "urn:normhub-openapi", Resource.from_contents(OPENAPI, default_specification=DRAFT202012)
)


def assert_matches_schema(document: dict, schema_name: str) -> None:
    """``document`` is valid against the schema of that name in openapi.json."""
    validator = Draft202012Validator(
        {"$ref": f"urn:normhub-openapi#/components/schemas/{schema_name}"}, registry=_REGISTRY
    )
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def token_for(session, user) -> dict:
    _, secret = api_services.create_token(session, user, "tests")
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def exposure_url(community, norm, member) -> str:
    ref = member if isinstance(member, (str, int)) else member.id
    return f"/api/v1/communities/{community.slug}/norms/{norm.slug}/exposure/{ref}"


def coverage_url(community, norm) -> str:
    return f"/api/v1/communities/{community.slug}/norms/{norm.slug}/coverage"


@pytest.fixture
def scene(factory, session):
    """A community with an open norm, a checker, and a reader who read and responded."""
    community = factory.community()
    norm = factory.norm(community)
    checker = factory.member(community, name="Checker")
    reader = factory.member(community, name="Reader")
    version = norm.current_version
    record_event(session, reader, norm, version, "opened")
    record_event(session, reader, norm, version, "read")
    first, second = version.assumptions
    record_response(
        session,
        norm,
        reader,
        "yes",
        "endorse",
        answers={
            first.id: AssumptionAnswer("yes", "agree"),
            second.id: AssumptionAnswer("yes", "disagree", "Corrections do travel."),
        },
    )
    session.commit()
    return community, norm, checker, reader


# -- Exposure checks ---------------------------------------------------------------


def test_exposure_matches_the_service_and_is_recorded(scene, session, client):
    community, norm, checker, reader = scene
    headers = token_for(session, checker)
    url = exposure_url(community, norm, reader) + "?timeline=true"
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()

    expected = check_exposure(session, norm, reader).to_dict()
    session.rollback()
    for key, value in expected.items():
        if key == "norm":
            continue
        assert body[key] == value, key
    assert body["norm"] | {"status": "open"} == body["norm"]
    assert body["norm"]["id"] == norm.id and body["norm"]["slug"] == norm.slug
    assert body["community"] == {"slug": community.slug, "name": community.name}
    assert body["subject"] == {"id": reader.id, "display_name": "Reader"}

    # The scenario itself: read, understood, endorsed, one assumption rejected.
    assert body["level"] == body["current_level"] == "endorsed"
    assert body["stale"] is False and body["is_member"] is True
    assert body["understood"] == "yes" and body["endorsement"] == "endorse"
    assert body["current_version"] == 1 and body["level_version"] == 1
    assert [a["position"] for a in body["rejected_assumptions"]] == [2]
    assert body["rejected_assumptions"][0]["reason"] == "Corrections do travel."
    assert body["unmet_prerequisites"] == []
    answer = body["answer"]
    assert "Reader read and endorsed version 1. On version 1 they said they endorse it." in answer
    assert "They reject assumption 2 of version 1" in body["answer"]
    assert body["norm_status"] == "open" and body["in_force_since"] is None
    assert body["authored_by_subject"] is False and body["changes_since_read"] == []
    assert body["recommendation"]["code"] == "not_in_force"
    assert body["answer"].endswith(body["recommendation"]["text"])
    assert {e["kind"] for e in body["timeline"]} == {"opened", "read", "responded"}
    assert_matches_schema(body, "ExposureReport")

    checks = session.scalars(select(ExposureCheck)).all()
    assert [(c.checker_id, c.subject_id, c.norm_id) for c in checks] == [
        (checker.id, reader.id, norm.id)
    ]
    assert checks[0].level == "endorsed" and checks[0].answer == body["answer"]
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == checker.id))
    assert token.last_used_at is not None


def test_timeline_only_when_asked(scene, session, client):
    community, norm, checker, reader = scene
    headers = token_for(session, checker)
    plain = client.get(exposure_url(community, norm, reader), headers=headers).get_json()
    assert "timeline" not in plain
    assert plain["level"] == "endorsed"
    url = exposure_url(community, norm, reader) + "?timeline=1"
    timeline = client.get(url, headers=headers).get_json()["timeline"]
    assert [e["kind"] for e in timeline] == ["responded", "read", "opened"]
    assert all(e["version"] == 1 for e in timeline)


def test_every_check_is_recorded(scene, session, client):
    community, norm, checker, reader = scene
    headers = token_for(session, checker)
    for _ in range(3):
        assert client.get(exposure_url(community, norm, reader), headers=headers).status_code == 200
    assert len(session.scalars(select(ExposureCheck.id)).all()) == 3


def test_session_login_works_without_a_token(scene, login_as, client, session):
    community, norm, checker, reader = scene
    login_as(checker)
    response = client.get(exposure_url(community, norm, reader))
    assert response.status_code == 200
    assert response.get_json()["level"] == "endorsed"
    check = session.scalar(select(ExposureCheck))
    assert check.checker_id == checker.id


def test_member_by_email(scene, session, client):
    community, norm, checker, reader = scene
    headers = token_for(session, checker)
    response = client.get(exposure_url(community, norm, reader.email.upper()), headers=headers)
    assert response.status_code == 200
    assert response.get_json()["subject"]["id"] == reader.id


def test_never_opened_and_stale_answers(scene, factory, session, client):
    community, norm, checker, reader = scene
    newcomer = factory.member(community, name="Newcomer")
    headers = token_for(session, checker)
    fresh = client.get(exposure_url(community, norm, newcomer), headers=headers).get_json()
    assert fresh["level"] == "none" and fresh["latest_version_seen"] is None
    assert "never opened" in fresh["answer"]

    draft = factory.draft(
        assumptions=[AssumptionInput("Readers rarely check a number's base.", key=1)]
    )
    revise_norm(session, norm, norm.author, draft, "Dropped the trust assumption", True)
    session.commit()
    stale = client.get(exposure_url(community, norm, reader), headers=headers).get_json()
    assert stale["stale"] is True and stale["current_level"] == "none"
    assert stale["current_version"] == 2 and stale["level_version"] == 1
    assert [c["number"] for c in stale["material_changes_since"]] == [2]
    assert "changed materially" in stale["answer"]
    assert_matches_schema(stale, "ExposureReport")


def test_subject_outside_the_community_is_no_one(scene, factory, session, client):
    """Any numeric id used to answer with that account's name: ids could be walked."""
    community, norm, checker, _ = scene
    outsider = factory.user("Outsider")
    headers = token_for(session, checker)
    response = client.get(exposure_url(community, norm, outsider), headers=headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == (
        f"No member of this community has id {outsider.id}."
    )
    assert "Outsider" not in response.get_data(as_text=True)


def test_subject_who_left_is_answered(scene, session, client):
    community, norm, checker, reader = scene
    leave(session, community, reader)
    session.commit()
    headers = token_for(session, checker)
    body = client.get(exposure_url(community, norm, reader), headers=headers).get_json()
    assert body["is_member"] is False and body["left_community"] is True
    assert "Reader left this community on " in body["answer"]
    assert body["recommendation"]["code"] == "not_member"


# -- Who may ask ---------------------------------------------------------------------


def test_members_only_community_is_404_for_non_members(factory, session, client):
    community = factory.community(visibility="members")
    norm = factory.norm(community)
    member = factory.member(community)
    outsider = factory.user()
    outsider_headers = token_for(session, outsider)
    for url in (exposure_url(community, norm, member), coverage_url(community, norm)):
        response = client.get(url, headers=outsider_headers)
        assert response.status_code == 404
        assert response.get_json() == {"error": {"status": 404, "message": "No such community."}}
    member_headers = token_for(session, member)
    assert client.get(coverage_url(community, norm), headers=member_headers).status_code == 200
    assert session.scalar(select(ExposureCheck.id)) is None


def test_public_community_non_member_may_see_coverage_but_not_check(
    scene, factory, session, client
):
    community, norm, _, reader = scene
    headers = token_for(session, factory.user())
    refused = client.get(exposure_url(community, norm, reader), headers=headers)
    assert refused.status_code == 403
    assert "members" in refused.get_json()["error"]["message"]
    assert client.get(coverage_url(community, norm), headers=headers).status_code == 200
    assert session.scalar(select(ExposureCheck.id)) is None


def test_members_may_check_in_a_members_only_community(factory, session, client):
    community = factory.community(visibility="members")
    norm = factory.norm(community)
    member = factory.member(community)
    headers = token_for(session, factory.member(community))
    response = client.get(exposure_url(community, norm, member), headers=headers)
    assert response.status_code == 200
    assert response.get_json()["subject"]["id"] == member.id
    assert session.scalar(select(ExposureCheck.subject_id)) == member.id


def test_site_admin_may_check_a_members_only_community(factory, session, client):
    community = factory.community(visibility="members")
    norm = factory.norm(community)
    member = factory.member(community)
    headers = token_for(session, factory.user(admin=True))
    response = client.get(exposure_url(community, norm, member), headers=headers)
    assert response.status_code == 200
    assert response.get_json()["level"] == "none"


def test_anonymous_is_401(scene, client):
    community, norm, _, reader = scene
    for url in (exposure_url(community, norm, reader), coverage_url(community, norm)):
        response = client.get(url)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="NormHub API"'
        assert_matches_schema(response.get_json(), "Error")


def test_revoked_token_is_401(scene, session, client):
    community, norm, checker, reader = scene
    token, secret = api_services.create_token(session, checker, "old")
    api_services.revoke_token(session, checker, token.id)
    session.commit()
    response = client.get(
        exposure_url(community, norm, reader), headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 401
    assert "revoked" in response.get_json()["error"]["message"]


def test_a_bad_token_is_401_before_anything_is_looked_up(scene, session, client):
    token, secret = api_services.create_token(session, scene[2], "old")
    api_services.revoke_token(session, scene[2], token.id)
    session.commit()
    for header in (f"Bearer {secret}", "Bearer nh_never-issued"):
        response = client.get(
            "/api/v1/communities/nope/norms/nope/exposure/1", headers={"Authorization": header}
        )
        assert response.status_code == 401, header
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_former_members_may_not_check(factory, session, client):
    for visibility, status in (("members", 404), ("public", 403)):
        community = factory.community(visibility=visibility)
        norm = factory.norm(community)
        member = factory.member(community)
        former = factory.member(community)
        headers = token_for(session, former)
        leave(session, community, former)
        session.commit()
        for ref in (member.id, member.email):
            response = client.get(exposure_url(community, norm, ref), headers=headers)
            assert response.status_code == status, (visibility, ref)
    assert session.scalar(select(ExposureCheck.id)) is None


def test_logged_in_non_member_gets_404_for_a_members_only_community(
    factory, session, client, login_as
):
    community = factory.community(visibility="members")
    norm = factory.norm(community)
    member = factory.member(community)
    login_as(factory.user())
    response = client.get(exposure_url(community, norm, member))
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "No such community."


def test_unread_prerequisites_are_listed(scene, factory, session, client):
    from normhub.norms.services import set_prerequisites

    community, norm, checker, reader = scene
    base = factory.norm(community, checker, title="Say where a claim comes from")
    set_prerequisites(session, norm, norm.author, [base])
    session.commit()
    headers = token_for(session, checker)
    body = client.get(exposure_url(community, norm, reader), headers=headers).get_json()
    assert body["unmet_prerequisites"] == [
        {"id": base.id, "slug": base.slug, "title": "Say where a claim comes from"}
    ]
    assert body["fully_exposed"] is False
    assert "Say where a claim comes from" in body["answer"]


def test_token_last_use_is_refreshed_at_most_once_a_minute(scene, session, client):
    from datetime import timedelta

    community, norm, checker, reader = scene
    token, secret = api_services.create_token(session, checker, "ci")
    session.commit()
    headers = {"Authorization": f"Bearer {secret}"}

    def last_use():
        session.rollback()
        return session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token.id))

    assert client.get(exposure_url(community, norm, reader), headers=headers).status_code == 200
    first = last_use()
    assert first is not None
    assert client.get(exposure_url(community, norm, reader), headers=headers).status_code == 200
    assert last_use() == first
    session.get(ApiToken, token.id).last_used_at = first - timedelta(minutes=2)
    session.commit()
    assert client.get(exposure_url(community, norm, reader), headers=headers).status_code == 200
    assert last_use() > first - timedelta(minutes=2)


def test_refused_checks_give_their_connection_back(scene, app, session, client):
    community, norm, checker, reader = scene
    headers = token_for(session, checker)
    for url in (
        exposure_url(community, norm, 987654),
        f"/api/v1/communities/nope/norms/{norm.slug}/exposure/{reader.id}",
        exposure_url(community, norm, reader),
    ):
        client.get(url, headers=headers)
        assert app.extensions["normhub.autocommit_engine"].pool.checkedout() == 0


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/communities/nope/norms/{norm}/exposure/{member}", "No such community."),
        (
            "/communities/{community}/norms/nope/exposure/{member}",
            "No such norm in this community.",
        ),
        (
            "/communities/{community}/norms/{norm}/exposure/987654",
            "No member of this community has id 987654.",
        ),
        (
            "/communities/{community}/norms/{norm}/exposure/nobody@example.org",
            "No member of this community has that email address.",
        ),
        (
            "/communities/{community}/norms/{norm}/exposure/somebody",
            "A member is named by their numeric id or their email address.",
        ),
        (
            "/communities/{community}/norms/{norm}/exposure/99999999999999999999",
            "No member of this community has id 99999999999999999999.",
        ),
        (
            "/communities/{community}/norms/99999999999999999999/exposure/{member}",
            "No such norm in this community.",
        ),
        ("/communities/nope/norms/{norm}/coverage", "No such community."),
        (
            "/communities/{community}/norms/99999999999999999999/coverage",
            "No such norm in this community.",
        ),
        ("/communities/{community}/norms/nope/coverage", "No such norm in this community."),
    ],
)
def test_unknown_things_are_404_saying_which(scene, session, client, path, message):
    community, norm, checker, reader = scene
    headers = token_for(session, checker)
    url = "/api/v1" + path.format(community=community.slug, norm=norm.slug, member=reader.id)
    response = client.get(url, headers=headers)
    assert response.status_code == 404
    assert response.get_json() == {"error": {"status": 404, "message": message}}
    assert_matches_schema(response.get_json(), "Error")


def test_outsiders_email_is_not_looked_up(scene, factory, session, client):
    community, norm, checker, _ = scene
    outsider = factory.user()
    headers = token_for(session, checker)
    response = client.get(exposure_url(community, norm, outsider.email), headers=headers)
    assert response.status_code == 404


def test_norm_by_numeric_id(scene, session, client):
    community, norm, checker, reader = scene
    headers = token_for(session, checker)
    url = f"/api/v1/communities/{community.slug}/norms/{norm.id}/exposure/{reader.id}"
    assert client.get(url, headers=headers).get_json()["norm"]["id"] == norm.id


def test_a_norm_id_from_another_community_is_404(scene, factory, session, client):
    community, _norm, checker, reader = scene
    elsewhere = factory.norm(factory.community())
    headers = token_for(session, checker)
    url = f"/api/v1/communities/{community.slug}/norms/{elsewhere.id}/exposure/{reader.id}"
    response = client.get(url, headers=headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "No such norm in this community."


def test_a_slug_that_looks_like_an_id_wins_over_the_id(scene, factory, session, client):
    community, norm, checker, reader = scene
    namesake = factory.norm(community, checker)
    namesake.slug = str(norm.id)
    session.commit()
    headers = token_for(session, checker)
    url = f"/api/v1/communities/{community.slug}/norms/{norm.id}/exposure/{reader.id}"
    assert client.get(url, headers=headers).get_json()["norm"]["id"] == namesake.id


# -- Coverage ------------------------------------------------------------------------


def test_coverage_counts(scene, factory, session, client):
    community, norm, checker, reader = scene
    opener = factory.member(community, name="Opener")
    partial = factory.member(community, name="Partial")
    record_event(session, opener, norm, norm.current_version, "opened")
    record_response(session, norm, partial, "partly", "undecided")
    session.commit()
    headers = token_for(session, checker)
    response = client.get(coverage_url(community, norm), headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    # Owner, author, checker, reader, opener, partial; writing it counts as the
    # author's endorsement.
    assert body["active_members"] == 6
    assert body["levels"] == {
        "none": 2,
        "delivered": 0,
        "opened": 1,
        "read": 1,
        "understood": 0,
        "endorsed": 2,
    }
    assert body["understood"] == 2 and body["responses"] == 2
    assert body["threshold_pct"] == community.coverage_threshold_pct
    assert body["min_responses"] == community.coverage_min_responses
    assert body["meets_threshold"] is False
    assert body["community"]["slug"] == community.slug
    expected = coverage(session, norm).to_dict()
    session.rollback()
    # The not-yet-exposed counts are for stewards: the checker is a plain member.
    expected.update(not_exposed=None, not_exposed_digest_off=None)
    assert {k: v for k, v in body.items() if k not in ("norm", "community")} == {
        k: v for k, v in expected.items() if k != "norm"
    }
    assert_matches_schema(body, "Coverage")
    # Coverage is not a check of anyone: nothing recorded.
    assert session.scalar(select(ExposureCheck.id)) is None


# -- The OpenAPI document --------------------------------------------------------------


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}|<[^>]+>", "{}", path)


def test_openapi_document_is_valid_and_served(client):
    validate_openapi(OPENAPI)
    assert OPENAPI["openapi"].startswith("3.1")
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == OPENAPI


def test_openapi_lists_the_endpoints_and_each_exists(app):
    paths = OPENAPI["paths"]
    assert "/api/v1/communities/{community}/norms/{norm}/exposure/{member}" in paths
    assert "/api/v1/communities/{community}/norms/{norm}/coverage" in paths
    routes = {_shape(rule.rule) for rule in app.url_map.iter_rules()}
    for path, operations in paths.items():
        assert _shape(path) in routes, f"{path} is documented but not served"
        rules = [r for r in app.url_map.iter_rules() if _shape(r.rule) == _shape(path)]
        served = {m.lower() for r in rules for m in r.methods}
        assert set(operations) <= served | {"parameters", "summary", "description"}


def test_openapi_documents_bearer_auth_and_errors():
    schemes = OPENAPI["components"]["securitySchemes"]
    assert schemes["bearerToken"] == {**schemes["bearerToken"], "type": "http", "scheme": "bearer"}
    exposure_op = OPENAPI["paths"]["/api/v1/communities/{community}/norms/{norm}/exposure/{member}"]
    for status in ("401", "403", "404"):
        assert status in exposure_op["get"]["responses"]
    assert OPENAPI["components"]["schemas"]["Error"]["required"] == ["error"]
