"""A path for newcomers: a community's norms in force, each after the norms it builds on.

The ordering on plain values first (no database), then the path from the database
(reading time, citations), the "Start here" page for a member, a visitor and an
outsider, the community page's pointer to it, the reading queue, a newcomer's first
digests and the API.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select

from normhub.accounts.models import User
from normhub.communities.models import Community
from normhub.db import session_scope, utcnow
from normhub.demo import content
from normhub.digest.builder import DigestBuilder, Member
from normhub.digest.links import Links
from normhub.digest.models import DigestSend
from normhub.digest.path_lead import FIRST_DIGESTS, NORMS_LED
from normhub.digest.periods import period_key
from normhub.exposure.ledger import record_event
from normhub.exposure.path_progress import path_progress
from normhub.exposure.reading_queue import reading_queue
from normhub.newcomers import views as newcomer_views
from normhub.norms.models import NormPrerequisite
from normhub.norms.path import (
    READING_WPM,
    PathNode,
    community_path,
    order_path,
    path_summary,
)
from normhub.norms.services import AssumptionInput, set_prerequisites
from normhub.responses.services import record_response
from tests.conftest import login

DAY = datetime(2024, 1, 1)


def node(norm_id: int, title: str, citations: int = 0, days: int = 0) -> PathNode:
    return PathNode(norm_id, title, DAY + timedelta(days=days), citations)


# -- The ordering, on plain values ------------------------------------------------------


def test_every_norm_comes_after_what_it_builds_on_ties_by_citations_age_title():
    nodes = [
        node(1, "Basics", citations=1, days=5),
        node(2, "Cite sources", citations=2, days=9),
        node(3, "Advanced citing", days=1),
        node(4, "Be kind", days=3),
        node(5, "Answer politely", days=3),
    ]
    # 3 builds on 1 and 2; 4 and 5 are alone, as old as each other.
    order = order_path(nodes, [(3, 1), (3, 2), (5, 1)])
    # Most cited first (2, then 1); then of the norms free to come, none cited, the
    # oldest (3, day 1), and 5 and 4, of the same day, by title.
    assert order.ids == (2, 1, 3, 5, 4)
    assert order.cycle_breaks == ()
    assert order.builds_on[3] == frozenset({1, 2})


def test_ties_go_to_the_older_norm_then_the_title():
    nodes = [node(1, "Zebra", days=2), node(2, "Apple", days=2), node(3, "Mango", days=1)]
    assert order_path(nodes, []).ids == (3, 2, 1)


def test_a_prerequisite_not_in_force_neither_blocks_nor_appears_but_passes_its_own_on():
    # 1 and 3 are in force; 2 is open (not a node): 1 builds on 2, 2 builds on 3.
    # 99 is retired and builds on nothing; 1 also builds on it.
    nodes = [node(1, "Alpha", citations=5), node(3, "Gamma", days=4)]
    order = order_path(nodes, [(1, 2), (2, 3), (1, 99)])
    assert order.ids == (3, 1)  # Gamma first, though Alpha is far more cited
    assert order.builds_on[1] == frozenset({3})
    assert set(order.ids) == {1, 3}


def test_a_cycle_neither_hangs_nor_drops_a_norm_and_is_broken_at_its_most_cited_norm():
    nodes = [
        node(1, "One", citations=1),
        node(2, "Two", citations=3),
        node(3, "Three", citations=1),
        node(4, "Builds on the circle", citations=9),
        node(5, "Before the circle", days=-1),
    ]
    # 1 -> 2 -> 3 -> 1 is a circle; the circle also builds on 5; 4 builds on 1.
    edges = [(1, 2), (2, 3), (3, 1), (4, 1), (2, 5)]
    order = order_path(nodes, edges)
    assert sorted(order.ids) == [1, 2, 3, 4, 5]
    # 5 waits on nothing, so it comes first; then the circle is broken at its most
    # cited norm, 2 (never at 4, the most cited of all, which only follows the
    # circle), and the rest follow the links: 4 before 3 by its citations.
    assert order.ids == (5, 2, 1, 4, 3)
    assert order.cycle_breaks == (2,)
    # The same input always gives the same answer.
    assert order_path(list(reversed(nodes)), list(reversed(edges))) == order


def test_a_cycle_is_broken_where_the_most_important_norm_of_the_circle_is():
    # Two circles: 1 <-> 2 (waits on nothing else) and 3 <-> 4, which waits on 1.
    nodes = [node(1, "A"), node(2, "B", citations=4), node(3, "C", citations=9), node(4, "D")]
    order = order_path(nodes, [(1, 2), (2, 1), (3, 4), (4, 3), (3, 1)])
    # 3 is the most cited, but its circle waits on 1: the first circle is broken
    # first (at 2, its most cited); then 3's circle, at 3.
    assert order.cycle_breaks == (2, 3)
    assert order.ids == (2, 1, 3, 4)


def test_a_norm_building_on_itself_is_no_cycle():
    assert order_path([node(1, "Self")], [(1, 1)]).ids == (1,)


# -- From the database ------------------------------------------------------------------


def in_force(factory, community, author, title, *, body="Word " * 10, builds_on=(), **changes):
    norm = factory.norm(community, author, status="in_force", title=title, body=body, **changes)
    if builds_on:
        set_prerequisites(factory.session, norm, author, list(builds_on))
        factory.session.commit()
    return norm


def small_world(factory):
    """A public community with a path of four norms and a member who read none."""
    owner = factory.user("Olga Owner")
    community = factory.community(owner)
    author = factory.member(community, name="Ann Author")
    basics = in_force(factory, community, author, "Basics")
    sources = in_force(factory, community, author, "Cite sources")
    advanced = in_force(factory, community, author, "Advanced citing", builds_on=[basics, sources])
    kind = in_force(factory, community, author, "Be kind", builds_on=[basics])
    return community, author, [basics, sources, advanced, kind]


def test_the_path_counts_words_of_the_version_in_force_and_citations(session, factory):
    community, author, (basics, sources, advanced, kind) = small_world(factory)
    # An open norm building on "Cite sources" counts; a retired one does not.
    opened = factory.norm(community, author, title="Open one", status="open")
    set_prerequisites(session, opened, author, [sources])
    retired = factory.norm(community, author, title="Retired one", status="retired")
    session.add(NormPrerequisite(norm_id=retired.id, prerequisite_id=sources.id))
    long_one = in_force(
        factory,
        community,
        author,
        "Long",
        summary="Three words here",
        body=("word " * 460).strip(),
        assumptions=[AssumptionInput("Two words", "Four words right here")],
    )
    session.commit()

    path = community_path(session, community)
    steps = {step.norm.title: step for step in path.steps}
    # summary 3 + essay 460 + statement 2 + explanation 4
    assert steps["Long"].words == 469
    assert steps["Long"].minutes == 3 == -(-469 // READING_WPM)
    assert steps["Basics"].minutes == 1
    # basics: advanced and kind build on it; sources: advanced and the open norm.
    assert (steps["Basics"].citations, steps["Cite sources"].citations) == (2, 2)
    assert [s.norm.title for s in path.steps] == [
        "Basics",
        "Cite sources",
        "Advanced citing",
        "Be kind",
        "Long",
    ]
    assert path.minutes == sum(step.minutes for step in path.steps)
    assert path_summary(session, community).norms == 5
    assert path_summary(session, community).minutes == path.minutes
    assert long_one.id in path.norm_ids and opened.id not in path.norm_ids


def test_progress_counts_only_the_version_in_force_read_and_understood(session, factory):
    community, author, (basics, sources, advanced, kind) = small_world(factory)
    newcomer = factory.member(community, name="Nia Newcomer")
    record_response(session, basics, newcomer, "yes", "endorse")
    record_response(session, sources, newcomer, "yes", "undecided")
    record_event(session, newcomer, advanced, 1, "read")  # read, no response
    record_response(session, kind, newcomer, "no", "undecided")  # did not understand
    session.commit()
    path = community_path(session, community)
    progress = path_progress(session, newcomer, path)
    assert progress.sentence == "2 of 4 read and understood"
    assert progress.states == {
        basics.id: "understood",
        sources.id: "understood",
        advanced.id: "read",
        kind.id: "read",
    }
    assert progress.next_norm_id == advanced.id


# -- The page ---------------------------------------------------------------------------


def step_titles(page: str) -> list[str]:
    return re.findall(
        r'<li class="card path-step[^"]*" data-norm="[^"]+"[^>]*>.*?<strong>([^<]+)</strong>',
        page,
        re.S,
    )


def test_a_member_sees_their_progress_and_the_next_norm(client, session, factory):
    community, _author, (basics, sources, advanced, kind) = small_world(factory)
    newcomer = factory.member(community, name="Nia Newcomer")
    record_response(session, basics, newcomer, "yes", "endorse")
    session.commit()
    login(client, newcomer)
    response = client.get(f"/c/{community.slug}/start")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert step_titles(page) == ["Basics", "Cite sources", "Advanced citing", "Be kind"]
    assert '<strong id="path-progress-count">1 of 4 read and understood</strong>' in page
    next_item = re.search(r'<li class="([^"]*)" data-norm="([^"]+)" aria-current="step">', page)
    assert next_item.group(2) == sources.slug and "path-next" in next_item.group(1)
    assert page.count('aria-current="step"') == 1
    assert "Read this next" in page
    assert f'class="card path-step path-understood" data-norm="{basics.slug}"' in page
    assert "Register to join" not in page and 'id="path-join"' not in page
    assert "builds on Basics, Cite sources" in page


def test_a_visitor_sees_the_path_without_progress_and_an_invitation_to_join(
    client, session, factory
):
    community, _author, _norms = small_world(factory)
    page = client.get(f"/c/{community.slug}/start").get_data(as_text=True)
    assert step_titles(page) == ["Basics", "Cite sources", "Advanced citing", "Be kind"]
    assert 'id="path-progress"' not in page and "of 4 read and understood" not in page
    assert 'id="path-register-to-join"' in page
    assert 'aria-current="step"' not in page
    assert "4 norms, about 4 minutes of reading in all" in page


def test_a_long_path_shows_its_first_steps_and_says_how_many_more(
    client, session, factory, monkeypatch
):
    community, _author, _norms = small_world(factory)
    monkeypatch.setattr(newcomer_views, "STEPS_SHOWN", 3)
    page = client.get(f"/c/{community.slug}/start").get_data(as_text=True)
    assert step_titles(page) == ["Basics", "Cite sources", "Advanced citing"]
    assert "The path goes on with 1 more norm in force" in page
    assert "4 norms, about 4 minutes" in page


def test_a_visitors_kept_page_follows_a_norm_coming_into_force(client, session, factory):
    community, author, _norms = small_world(factory)
    url = f"/c/{community.slug}/start"
    assert "Late arrival" not in client.get(url).get_data(as_text=True)
    assert client.get(url).headers["X-Cache"] == "hit"  # kept whole for visitors
    in_force(factory, community, author, "Late arrival")
    again = client.get(url)
    assert again.headers["X-Cache"] == "miss"
    assert step_titles(again.get_data(as_text=True))[-1] == "Late arrival"


def test_a_signed_in_non_member_is_offered_to_join(client, session, factory):
    community, _author, _norms = small_world(factory)
    login(client, factory.user("Vera Visitor"))
    page = client.get(f"/c/{community.slug}/start").get_data(as_text=True)
    assert f'action="/c/{community.slug}/join"' in page
    assert 'id="path-progress"' not in page


def test_a_members_only_path_is_a_404_to_outsiders(client, session, factory):
    owner = factory.user("Olga Owner")
    hidden = factory.community(owner, visibility="members")
    author = factory.member(hidden, name="Sid Secret")
    in_force(factory, hidden, author, "Secret rule")
    url = f"/c/{hidden.slug}/start"
    response = client.get(url)
    assert response.status_code == 404
    assert b"Secret rule" not in response.data
    assert client.get(f"/api/v1/communities/{hidden.slug}/path").status_code == 404
    login(client, factory.user("Otto Outsider"))
    assert client.get(url).status_code == 404
    assert client.get(f"/api/v1/communities/{hidden.slug}/path").status_code == 404
    client.get("/logout")
    login(client, author)
    assert b"Secret rule" in client.get(url).data


def test_an_empty_path_says_so(client, session, factory):
    community = factory.community()
    factory.norm(community, title="Only open")
    page = client.get(f"/c/{community.slug}/start").get_data(as_text=True)
    assert 'id="path-empty"' in page and "Only open" not in page
    assert 'id="community-start-here"' not in client.get(f"/c/{community.slug}").get_data(
        as_text=True
    )


def test_the_community_page_points_visitors_to_the_path(client, session, factory):
    community, _author, _norms = small_world(factory)
    page = client.get(f"/c/{community.slug}").get_data(as_text=True)
    pointer = re.search(r'<p class="path-pointer" id="community-start-here">(.*?)</p>', page, re.S)
    text = " ".join(re.sub(r"<[^>]+>", "", pointer.group(1)).split())
    assert text == (
        "New here? Start with Start here: the 4 norms in force, in the order to read them "
        "(about 4 minutes)."
    )
    assert f'href="/c/{community.slug}/start"' in pointer.group(1)


# -- The reading queue and the first digests follow it ----------------------------------


def test_the_reading_queue_takes_norms_in_force_in_path_order(session, factory):
    community, author, (basics, sources, advanced, kind) = small_world(factory)
    newcomer = factory.member(community, name="Nia Newcomer")
    opened = factory.norm(community, author, title="Under discussion")
    # Activity would order the in-force norms otherwise: the newest first.
    for norm in (kind, advanced, sources, basics):
        norm.last_activity_at = utcnow()
        session.commit()
    record_event(session, newcomer, basics, 1, "read")
    session.commit()
    queue = reading_queue(session, newcomer, community=community)
    assert [item.norm.title for item in queue] == [
        opened.title,
        "Cite sources",
        "Advanced citing",
        "Be kind",
    ]


def digest_of(app, session, user, now=None):
    builder = DigestBuilder(session, "weekly", Links(app), now=now)
    return builder.build([Member(user.id, user.email, user.display_name)])[user.id]


def test_a_new_members_first_digests_lead_with_the_next_norms_on_the_path(app, session, factory):
    community, author, (basics, sources, advanced, kind) = small_world(factory)
    extra = in_force(factory, community, author, "Later on", builds_on=[kind])
    newcomer = factory.member(community, name="Nia Newcomer")
    record_response(session, basics, newcomer, "yes", "endorse")
    session.commit()
    # A week on: the norms came into force before the digest's window.
    now = utcnow() + timedelta(days=8)
    digest = digest_of(app, session, newcomer, now=now)
    assert digest.sections[0].key == "start_here"
    # "Later on" builds on "Be kind", which now comes before "Advanced citing".
    assert NORMS_LED == 3
    assert [e.norm.title for e in digest.sections[0].entries] == [
        "Cite sources",
        "Be kind",
        "Advanced citing",
    ]
    assert extra.title not in [e.norm.title for e in digest.sections[0].entries]
    assert digest.has_news
    # The lead takes no norm another section tells of: one that just came into force
    # is told of as such.
    record_response(session, sources, newcomer, "yes", "endorse")
    record_response(session, kind, newcomer, "yes", "endorse")
    fresh = in_force(factory, community, author, "Brand new")
    fresh.status_changed_at = now - timedelta(hours=1)
    session.commit()
    sections = {
        s.key: [e.norm.title for e in s.entries]
        for s in digest_of(app, session, newcomer, now=now).sections
    }
    assert sections["in_force"] == ["Brand new"]
    assert sections["start_here"] == ["Advanced citing", "Later on"]

    # After FIRST_DIGESTS digests sent since joining, the digest no longer leads with it.
    for week in range(FIRST_DIGESTS):
        sent = utcnow() + timedelta(days=7 * week + 1)
        session.add(
            DigestSend(
                user_id=newcomer.id,
                period_kind="weekly",
                period_key=period_key("weekly", sent) + f"-{week}",
                status="sent",
                window_start=sent - timedelta(days=7),
                window_end=sent,
                sent_at=sent,
            )
        )
    session.commit()
    later = digest_of(app, session, newcomer, now=utcnow() + timedelta(days=7 * FIRST_DIGESTS + 1))
    assert "start_here" not in [section.key for section in later.sections]

    # A member of long standing whose digests went out before they joined another
    # community is new there: digests sent before joining do not count.
    old_hand = factory.user("Otto Oldhand")
    before_joining = utcnow()
    session.add(
        DigestSend(
            user_id=old_hand.id,
            period_kind="weekly",
            period_key="2000-W01",
            status="sent",
            window_start=before_joining - timedelta(days=7),
            window_end=before_joining,
            sent_at=before_joining,
        )
    )
    factory.member(community, old_hand)
    session.commit()
    led = digest_of(app, session, old_hand, now=now).sections[0]
    assert led.key == "start_here" and led.entries[0].norm.title == "Basics"


# -- The API ----------------------------------------------------------------------------


def test_the_api_gives_the_path_and_the_callers_progress_only_to_a_member(client, session, factory):
    community, _author, (basics, sources, advanced, kind) = small_world(factory)
    newcomer = factory.member(community, name="Nia Newcomer")
    record_response(session, basics, newcomer, "yes", "endorse")
    session.commit()
    url = f"/api/v1/communities/{community.slug}/path"

    visitor = client.get(url).get_json()
    assert [step["norm"]["slug"] for step in visitor["steps"]] == [
        basics.slug,
        sources.slug,
        advanced.slug,
        kind.slug,
    ]
    assert visitor["progress"] is None
    assert {step["state"] for step in visitor["steps"]} == {None}
    assert visitor["steps"][2]["builds_on"] == [basics.slug, sources.slug]
    assert visitor["steps"][0]["cited_by"] == 2

    login(client, newcomer)
    mine = client.get(url).get_json()
    assert mine["progress"] == {
        "done": 1,
        "total": 4,
        "next": sources.slug,
        "sentence": "1 of 4 read and understood",
    }
    assert [step["state"] for step in mine["steps"]] == ["understood", "unread", "unread", "unread"]
    client.get("/logout")
    login(client, factory.user("Vera Visitor"))
    assert client.get(url).get_json()["progress"] is None


# -- The demo ---------------------------------------------------------------------------


def test_the_demo_has_a_newcomer_halfway_along_a_path(app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    who, slug = content.NEWCOMER
    assert f"log in as Noor Haddad and open /c/{slug}/start" in result.output
    with session_scope(app) as session:
        noor = session.scalar(select(User).where(User.email == f"{who}@example.org"))
        community = session.scalar(select(Community).where(Community.slug == slug))
        path = community_path(session, community)
        progress = path_progress(session, noor, path)
        titles = [step.norm.title for step in path.steps]
        assert titles == [
            "Unplug the soldering irons before you leave",
            "Write down every repair you hand back",
        ]
        assert (progress.done, progress.total) == (1, 2)
        assert progress.next_norm_id == path.steps[1].norm.id
        assert progress.states[path.steps[1].norm.id] == "unread"  # opened, not read
    client = app.test_client()
    response = client.post(
        "/login", data={"email": f"{who}@example.org", "password": content.DEMO_PASSWORD}
    )
    assert response.status_code == 302
    page = client.get(f"/c/{slug}/start").get_data(as_text=True)
    assert '<strong id="path-progress-count">1 of 2 read and understood</strong>' in page
