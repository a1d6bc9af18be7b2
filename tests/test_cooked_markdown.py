"""Markdown is rendered when it is written: pages serve the stored HTML ("cooked").

Reading a page renders nothing (the renderer is counted, not replaced); what the
page shows is what is stored; rows the current renderer did not cook still show
correctly and are put right by ``flask markdown recook``; mentions stay live.
"""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import select, update

from normhub import markdown
from normhub.accounts.deletion import delete_account
from normhub.accounts.models import User
from normhub.accounts.services import update_profile
from normhub.communities.services import leave
from normhub.discussion.models import Comment
from normhub.discussion.services import post_comment
from normhub.norms.models import Assumption, NormVersion
from normhub.norms.services import AssumptionInput
from tests.conftest import login, new_client
from tests.factories import Factory


@pytest.fixture
def app_overrides():
    return {"RATELIMIT_ENABLED": False}


@pytest.fixture
def renders(monkeypatch):
    """How many times Markdown is parsed (rendering parses first): counted, not replaced."""
    calls = []
    parse = MarkdownIt.parse

    def counted(self, *args, **kwargs):
        calls.append(args[0] if args else "")
        return parse(self, *args, **kwargs)

    monkeypatch.setattr(MarkdownIt, "parse", counted)
    return calls


@pytest.fixture
def world(session, factory):
    community = factory.community()
    reader = factory.member(community, name="Rea Reader")
    author = factory.member(community, name="Ann Author")
    norm = factory.norm(
        community,
        author,
        body=f"## Why\n\nAsk @{reader.handle} about *bases*.",
        assumptions=[AssumptionInput("Bases matter.", "Numbers **without** bases mislead.")],
    )
    comment = post_comment(session, norm, reader, f"Thanks @{author.handle}, _agreed_.")
    post_comment(session, norm, author, "A reply.", parent=comment)
    update_profile(session, author, "Ann Author", "I count **things**.")
    session.commit()
    return community, norm, reader, author, comment


def norm_path(community, norm) -> str:
    return f"/c/{community.slug}/norms/{norm.slug}"


def test_every_text_is_cooked_when_written(session, world):
    _community, norm, _reader, author, comment = world
    version = session.get(NormVersion, norm.current_version_id)
    explained = session.scalar(select(Assumption).where(Assumption.explanation != ""))
    for row, name in ((version, "body"), (explained, "explanation"), (comment, "body")):
        assert getattr(row, f"{name}_cooked") == markdown.cook(getattr(row, name))
        assert getattr(row, f"{name}_cooked_version") == markdown.RENDERER_VERSION
    assert author.bio_cooked == "<p>I count <strong>things</strong>.</p>\n"


def test_an_edit_cooks_again(session, client, world):
    community, _norm, reader, _author, comment = world
    login(client, reader)
    response = client.post(
        f"/c/{community.slug}/comments/{comment.id}/edit", data={"body": "Now **bold**."}
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Comment, comment.id).body_cooked == "<p>Now <strong>bold</strong>.</p>\n"


def test_a_norm_page_renders_no_markdown(app, session, world, renders):
    community, norm, reader, author, _comment = world
    anonymous, member = new_client(app, session), new_client(app, session)
    login(member, reader)
    del renders[:]
    for client in (anonymous, member):
        page = client.get(norm_path(community, norm)).get_data(as_text=True)
        assert "<em>bases</em>" in page and "<em>agreed</em>" in page
        assert "<strong>without</strong>" in page
        assert f'<a class="mention" href="/members/{author.handle}">@Ann Author</a>' in page
    profile = anonymous.get(f"/members/{author.handle}").get_data(as_text=True)
    assert "<strong>things</strong>" in profile
    assert renders == []


def test_the_page_serves_the_stored_html(session, client, world):
    community, norm, _reader, _author, comment = world
    session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(body_cooked="<p>Stored, <b>not</b> rendered.</p>")
    )
    session.commit()
    page = client.get(norm_path(community, norm)).get_data(as_text=True)
    assert "<p>Stored, <b>not</b> rendered.</p>" in page
    assert "<em>agreed</em>" not in page


def test_rows_not_cooked_by_this_renderer_show_correctly_and_are_not_written(
    session, client, world, renders
):
    community, norm, _reader, author, comment = world
    session.execute(update(Comment).values(body_cooked=None, body_cooked_version=None))
    session.execute(update(NormVersion).values(body_cooked="<p>old</p>", body_cooked_version=0))
    session.commit()
    page = client.get(norm_path(community, norm)).get_data(as_text=True)
    assert "<em>agreed</em>" in page and "<em>bases</em>" in page and "<p>old</p>" not in page
    assert f'<a class="mention" href="/members/{author.handle}">@Ann Author</a>' in page
    assert len(renders) == 3  # the essay and the two comments, each once
    session.expire_all()
    assert session.get(Comment, comment.id).body_cooked is None  # a GET writes nothing
    assert session.get(NormVersion, norm.current_version_id).body_cooked == "<p>old</p>"


def test_recook_after_a_renderer_change_renders_the_stale_rows(app, session, world, monkeypatch):
    _community, norm, _reader, _author, comment = world
    session.execute(update(Comment).values(body_cooked=None, body_cooked_version=None))
    session.commit()
    runner = app.test_cli_runner()

    first = runner.invoke(args=["markdown", "recook", "--quiet"])
    assert first.exit_code == 0, first.output
    assert "comments.body: 2 row(s) cooked." in first.output
    assert "norm_versions.body: 0 row(s) cooked." in first.output

    monkeypatch.setattr(markdown, "RENDERER_VERSION", markdown.RENDERER_VERSION + 1)
    bumped = runner.invoke(args=["markdown", "recook", "--quiet", "--batch-size", "1"])
    assert bumped.exit_code == 0, bumped.output
    users = len(session.scalars(select(User)).all())
    assert f"users.bio: {users} row(s) cooked." in bumped.output
    assert "comments.body: 2 row(s) cooked." in bumped.output
    assert "assumptions.explanation: 1 row(s) cooked." in bumped.output
    session.expire_all()
    stored = session.get(Comment, comment.id)
    assert stored.body_cooked == markdown.cook(stored.body)
    assert stored.body_cooked_version == markdown.RENDERER_VERSION

    again = runner.invoke(args=["markdown", "recook", "--quiet"])
    assert "0 row(s) now cooked" in again.output
    everything = runner.invoke(args=["markdown", "recook", "--quiet", "--all"])
    assert "comments.body: 2 row(s) cooked." in everything.output
    assert session.get(NormVersion, norm.current_version_id).body_cooked_version is not None


def test_mentions_follow_the_member_not_the_stored_html(session, client, world):
    community, norm, reader, author, _comment = world
    update_profile(session, author, "Ann Renamed", "")
    session.commit()
    page = client.get(norm_path(community, norm)).get_data(as_text=True)
    assert f'<a class="mention" href="/members/{author.handle}">@Ann Renamed</a>' in page
    leave(session, community, reader)
    session.commit()
    page = client.get(norm_path(community, norm)).get_data(as_text=True)
    # No longer a member: the essay's @handle names no one, as typed.
    assert f"Ask @{reader.handle} about" in page
    assert f'class="mention" href="/members/{reader.handle}"' not in page


def test_typed_placeholders_are_text_not_mentions(session, client, world):
    community, norm, reader, author, _comment = world
    forged = f'<span data-mention="{author.handle}">@{author.handle}</span>'
    post_comment(session, norm, reader, forged)
    session.commit()
    page = client.get(norm_path(community, norm)).get_data(as_text=True)
    # Shown as typed; only the @handle typed inside it is a mention, as anywhere.
    assert "&lt;span data-mention=" in page and "<span data-mention" not in page


def test_taken_down_comments_lose_their_html_too(session, world):
    _community, _norm, reader, _author, comment = world
    delete_account(session, reader, Factory.PASSWORD, remove_writing=True)
    session.commit()
    session.expire_all()
    taken_down = session.get(Comment, comment.id)
    assert taken_down.body == "" and taken_down.body_cooked == ""
