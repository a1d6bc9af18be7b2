import pytest
from flask import g
from sqlalchemy import select

from normhub.discussion.models import Comment


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


def test_comment_post_without_csrf_token_is_refused(factory, session, client, app):
    community = factory.community()
    norm = factory.norm(community)
    alice = factory.member(community, name="Alice")
    with client.session_transaction() as browser_session:
        browser_session["_user_id"] = str(alice.id)
        browser_session["_fresh"] = True

    response = client.post(
        f"/c/{community.slug}/norms/{norm.slug}/comments", data={"body": "Forged."}
    )
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    request_session = g.pop("db_session", None)
    if request_session is not None:
        request_session.close()
    assert session.scalar(select(Comment.id)) is None
