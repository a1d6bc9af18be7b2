"""With CSRF protection on (as in production), norm and response forms need the token."""

import re

import pytest
from sqlalchemy import func, select

from normhub.norms.models import Norm
from normhub.responses.models import Response
from tests.factories import Factory


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


def token_from(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def log_in(client, user):
    token = token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": user.email, "password": Factory.PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def count(session, model):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_forms_refuse_posts_without_token(factory, session, client):
    community = factory.community()
    member = factory.member(community)
    norm = factory.norm(community, member, status="draft")
    log_in(client, member)
    new_url = f"/c/{community.slug}/norms/new"
    data = {
        "title": "Agendas a day ahead",
        "summary": "Send the agenda a day before the meeting.",
        "body": "People prepare better.",
        "assumptions-0-statement": "Preparation improves meetings.",
    }
    assert client.post(new_url, data=data).status_code == 400
    assert count(session, Norm) == 1
    norm_url = f"/c/{community.slug}/norms/{norm.slug}"
    assert client.post(norm_url + "/status", data={"to_status": "open"}).status_code == 400
    session.expire_all()
    assert norm.status == "draft"

    data["csrf_token"] = token_from(client.get(new_url).get_data(as_text=True))
    assert client.post(new_url, data=data).status_code == 302
    assert count(session, Norm) == 2

    page = client.get(norm_url).get_data(as_text=True)
    status_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        norm_url + "/status", data={"to_status": "open", "csrf_token": status_token}
    )
    assert response.status_code == 302
    session.expire_all()
    assert norm.status == "open"


def test_response_needs_token(factory, session, client):
    community = factory.community()
    norm = factory.norm(community)
    reader = factory.member(community)
    log_in(client, reader)
    norm_url = f"/c/{community.slug}/norms/{norm.slug}"
    data = {
        "version_number": "1",
        "understood": "yes",
        "endorsement": "endorse",
        "assumptions-0-assumption_id": str(norm.current_version.assumptions[0].id),
        "assumptions-1-assumption_id": str(norm.current_version.assumptions[1].id),
    }
    assert client.post(norm_url + "/respond", data=data).status_code == 400
    assert count(session, Response) == 0
    page = client.get(norm_url).get_data(as_text=True)
    data["csrf_token"] = token_from(page[page.index('class="response-form"') :])
    assert client.post(norm_url + "/respond", data=data).status_code == 302
    assert count(session, Response) == 1
