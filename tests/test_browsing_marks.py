"""A community's norm list marks each norm for the member looking at it (unread, read,
responded, changed since), with its comment count and reading time, in the same few
queries however many norms the page lists."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from normhub.discussion.services import hide_comment, post_comment
from normhub.exposure.ledger import record_event
from normhub.norms.services import revise_norm
from normhub.responses.services import record_response
from tests.conftest import login


def essay(words: int) -> str:
    """An essay of exactly ``words`` words, in paragraphs of up to 50."""
    paragraphs = []
    while words > 0:
        paragraphs.append(" ".join(["word"] * min(50, words)))
        words -= 50
    return "\n\n".join(paragraphs)


def rows(page: str) -> dict[str, str]:
    """Each norm row's title -> its stats line, as text."""
    found = {}
    for row in re.findall(r'<li class="card norm-row">(.*?)</li>', page, re.S):
        title = re.search(r'<h2 class="norm-title"><a [^>]*>([^<]+)</a>', row).group(1)
        stats = re.search(r'<p class="muted norm-stats">(.*?)</p>', row, re.S).group(1)
        found[title] = " ".join(re.sub(r"<[^>]+>", " ", stats).split())
    return found


@pytest.fixture
def street(factory, session):
    """One community; Rita has met its norms in every way a mark tells apart."""
    community = factory.community()
    author = factory.member(community, name="Arno Author")
    steward = factory.member(community, name="Stella Steward", role="steward")
    rita = factory.member(community, name="Rita Reader")
    norms = {
        name: factory.norm(community, author, title=title, body=essay(words))
        for name, title, words in (
            ("unread", "Never met", 100),
            ("opened", "Only opened", 100),
            ("read", "Read and silent", 600),
            ("answered", "Answered as it stands", 100),
            ("changed", "Answered then rewritten", 100),
            ("reworded", "Answered then reworded", 100),
            ("stale_read", "Read then rewritten", 100),
        )
    }
    mine = factory.norm(community, rita, title="Ritas own", body=essay(1000))
    record_event(session, rita, norms["opened"], 1, "opened")
    record_event(session, rita, norms["read"], 1, "read")
    record_event(session, rita, norms["stale_read"], 1, "read")
    for name in ("answered", "changed", "reworded"):
        record_response(session, norms[name], rita, "yes", "endorse")
    for name, material in (("changed", True), ("stale_read", True), ("reworded", False)):
        norm = norms[name]
        rewrite = factory.draft(title=norm.title, body=essay(150))
        revise_norm(session, norm, author, rewrite, "Rewrote the ask.", material)
    for n in range(3):
        post_comment(session, norms["read"], steward, f"Point {n}.")
    hidden = post_comment(session, norms["read"], author, "Off topic.")
    hide_comment(session, hidden, steward)
    session.commit()
    return {"community": community, "rita": rita, "norms": norms, "mine": mine, "author": author}


def test_each_norm_is_marked_for_the_member_looking(client, street):
    login(client, street["rita"])
    page = rows(client.get(f"/c/{street['community'].slug}").get_data(as_text=True))
    assert page["Never met"].startswith("Unread ·")
    assert page["Only opened"].startswith("Unread ·")  # opened is not read
    assert page["Read and silent"].startswith("Read, no response yet ·")
    assert page["Answered as it stands"].startswith("You responded ·")
    assert page["Answered then rewritten"].startswith("Changed since you responded (v1) ·")
    # A wording fix asks nothing again: still answered.
    assert page["Answered then reworded"].startswith("You responded ·")
    assert page["Read then rewritten"].startswith("Changed since you read it ·")
    assert page["Ritas own"].startswith("You wrote this ·")


def test_the_changed_filter_agrees_with_the_marks(client, street):
    login(client, street["rita"])
    page = client.get(f"/c/{street['community'].slug}?mine=changed").get_data(as_text=True)
    assert list(rows(page)) == ["Answered then rewritten"]


def test_comment_counts_and_reading_times(client, street):
    page = rows(client.get(f"/c/{street['community'].slug}").get_data(as_text=True))
    # Three comments anyone may read; the one a steward hid is not counted.
    assert "3 comments" in page["Read and silent"]
    assert "0 comments" in page["Never met"]
    # 600 words of essay and a summary at 200 words a minute: a little over 3.
    assert "4 min read" in page["Read and silent"]
    assert "1 min read" in page["Never met"]
    assert "6 min read" in page["Ritas own"]
    # The current version counts: the rewrite is 150 words.
    assert "1 min read" in page["Answered then rewritten"]


def test_reading_time_is_words_over_two_hundred_rounded_up(client, factory, session):
    community = factory.community()
    summary_words = len(factory.draft().summary.split())
    factory.norm(community, title="Exactly three", body=essay(600 - summary_words))
    factory.norm(community, title="A word over three", body=essay(601 - summary_words))
    factory.norm(community, title="A few words", body="Be kind.")
    page = rows(client.get(f"/c/{community.slug}").get_data(as_text=True))
    assert "3 min read" in page["Exactly three"]
    assert "4 min read" in page["A word over three"]
    assert "1 min read" in page["A few words"]


def test_visitors_see_counts_but_no_marks(client, street):
    page = rows(client.get(f"/c/{street['community'].slug}").get_data(as_text=True))
    assert page["Never met"].startswith("0 people responded ·")
    assert not any(
        mark in text
        for text in page.values()
        for mark in ("Unread", "You responded", "Changed since", "You wrote")
    )


def test_marks_take_the_same_queries_for_two_norms_or_twenty(app, client, factory, session):
    community = factory.community()
    author = factory.member(community)
    reader = factory.member(community)
    engine = app.extensions["normhub.engine"]
    login(client, reader)

    def add_norms(count: int) -> None:
        for n in range(count):
            norm = factory.norm(community, author, title=f"Norm {community.id}-{n}-{count}")
            post_comment(session, norm, author, "A comment.")
            if n % 2:
                record_response(session, norm, reader, "yes", "endorse")
            else:
                record_event(session, reader, norm, 1, "read")
        session.commit()

    def statements() -> list[str]:
        seen = []

        def listener(*args):
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", listener)
        try:
            page = client.get(f"/c/{community.slug}?sort=title")
            assert page.status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return seen

    add_norms(2)
    few = statements()
    add_norms(18)
    many = statements()
    assert len(rows(client.get(f"/c/{community.slug}").get_data(as_text=True))) == 20
    assert len(many) == len(few)
    # The marks read the ledger once for the whole page.
    assert sum("FROM exposure_summaries" in s for s in many) == 1
