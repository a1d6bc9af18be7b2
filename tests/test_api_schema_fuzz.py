"""Property-based requests against the API, generated from its own OpenAPI document.

Schemathesis reads /api/v1/openapi.json from the app and sends each operation
requests made to fit the schema (and some made not to); every answer must be
no server error and must match what the document promises: status codes,
content types, headers and bodies. Bounded: a few dozen examples an operation.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from normhub.api.services import create_token
from normhub.responses.services import record_response


@pytest.fixture
def app_overrides():
    # Hundreds of requests from one token in a second is what a fuzzer does; the
    # rate limits have their own tests (tests/test_rate_limits.py).
    return {"SERVER_NAME": None, "RATELIMIT_ENABLED": False}


@pytest.fixture
def api_schema(app, session, factory):
    community = factory.community()
    members_only = factory.community(visibility="members")
    reader = factory.member(community, name="Rosa Reader")
    factory.member(members_only, reader)
    norm = factory.norm(community, title="Quote figures with their base")
    factory.norm(members_only, title="Ask before forwarding")
    record_response(session, norm, reader, "yes", "endorse")
    _, secret = create_token(session, reader, "fuzzing")
    session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.fuzz_token = secret
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_api_answer_keeps_the_schemas_promises(case, api_schema):
    case.call_and_validate(headers={"Authorization": f"Bearer {api_schema.fuzz_token}"})
