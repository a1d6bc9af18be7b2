"""A member's home is what needs them: unread notices, what to read, what changed since they
read it, norms close to the in-force gate and what others did lately, from their own
communities only, in the same number of queries however many communities and norms."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from normhub.communities.services import leave
from normhub.db import utcnow
from normhub.discussion.services import hide_comment, post_comment
from normhub.exposure.ledger import record_event
from normhub.exposure.reading_queue import queue_head, reading_queue
from normhub.norms.services import change_status, revise_norm, set_prerequisites
from normhub.notifications import services as notifications
from normhub.responses.services import record_response
from tests.conftest import login


def section(page: str, element_id: str) -> str:
    found = re.search(
        rf'<section class="card home-section[^"]*" id="{element_id}"(.*?)</section>', page, re.S
    )
    assert found, element_id
    return found.group(1)


def items(page: str, element_id: str) -> list[str]:
    """The text of each item of one section's list."""
    return [
        " ".join(re.sub(r"<[^>]+>", " ", item).split())
        for item in re.findall(r"<li[^>]*>(.*?)</li>", section(page, element_id), re.S)
    ]


def rewrite(factory, session, norm, editor, material=True) -> None:
    draft = factory.draft(title=norm.title, body=f"Rewritten {norm.current_version_number}.")
    revise_norm(session, norm, editor, draft, "Rewrote it.", material)


@pytest.fixture
def estate(factory, session):
    """Rita is in a public garden and a members-only committee; a public café she is not in,
    and a members-only club she does not know of, are busy too."""
    garden = factory.community()
    committee = factory.community(visibility="members")
    cafe = factory.community()
    club = factory.community(visibility="members")
    rita = factory.member(garden, name="Rita Reader")
    factory.member(committee, rita)
    gus = factory.member(garden, name="Gus Gardener")
    cora = factory.member(committee, name="Cora Chair", role="steward")
    steward = factory.member(garden, name="Stan Steward", role="steward")
    for place in (cafe, club):
        other = factory.member(place, name=f"Elsewhere {place.id}")
        far = factory.norm(place, other, title=f"Far away rule {place.id}")
        post_comment(session, far, other, "Far away comment.")

    unread = factory.norm(garden, gus, title="Water before nine")
    changed = factory.norm(garden, gus, title="Share the hoses")
    record_event(session, rita, changed, 1, "read")
    rewrite(factory, session, changed, gus)
    close = factory.norm(committee, cora, title="Minutes within a week")
    record_response(session, close, rita, "yes", "endorse")
    far_off = factory.norm(garden, gus, title="Compost rota")
    draft = factory.norm(garden, gus, title="Quiet hours", status="draft")
    change_status(session, draft, gus, "open")
    mentioned = post_comment(session, unread, gus, f"What do you think, @{rita.handle}?")
    post_comment(session, unread, rita, "I agree.")
    hidden = post_comment(session, far_off, gus, "Rude remark.")
    hide_comment(session, hidden, steward)
    session.commit()
    return {
        "garden": garden,
        "committee": committee,
        "cafe": cafe,
        "club": club,
        "rita": rita,
        "gus": gus,
        "cora": cora,
        "unread": unread,
        "changed": changed,
        "close": close,
        "far_off": far_off,
        "quiet": draft,
        "mentioned": mentioned,
    }


def home(client, who) -> str:
    login(client, who)
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_unread_notices_come_first_and_lead_where_they_point(client, estate, session):
    page = home(client, estate["rita"])
    [notice] = items(page, "home-notifications")
    assert notice.startswith("Gus Gardener mentioned you")
    mention = notifications.notifications_page(session, estate["rita"], 1, 10).items[0]
    assert f'action="/notifications/{mention.id}/open"' in section(page, "home-notifications")
    # Read, it leaves the home page.
    notifications.mark_read(session, estate["rita"], mention.id)
    session.commit()
    assert "Nothing unread." in section(
        client.get("/").get_data(as_text=True), "home-notifications"
    )


def test_notices_from_a_community_one_may_no_longer_see_are_left_out(client, estate, session):
    rita, cora = estate["rita"], estate["cora"]
    post_comment(session, estate["close"], cora, f"@{rita.handle}, the secret agenda.")
    session.commit()
    page = home(client, rita)
    assert "Cora Chair mentioned you" in " ".join(items(page, "home-notifications"))
    leave(session, estate["committee"], rita)
    session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Cora Chair" not in page
    assert "Minutes within a week" not in page
    assert estate["committee"].name not in page


def test_what_to_read_and_what_changed_since_reading(client, estate):
    page = home(client, estate["rita"])
    to_read = items(page, "home-to-read")
    titles = [item.split(" in ")[0] for item in to_read]
    assert set(titles) == {"Water before nine", "Compost rota", "Quiet hours"}
    # Read before the rewrite: it is in the other list, with where it stands now.
    [changed] = items(page, "home-changed")
    assert changed.startswith("Share the hoses in " + estate["garden"].name)
    assert "Changed materially since you read it: now version 2." in changed
    # Answered as it stands, or in a community she is not in: nothing to do.
    assert "Minutes within a week" not in section(page, "home-to-read")
    assert "Far away" not in page


def test_open_norms_closest_to_the_gate_come_first(client, estate, factory, session):
    committee, rita = estate["committee"], estate["rita"]
    # The committee is Olga (owner), Rita and Cora: Cora wrote it, Rita answered.
    record_response(session, estate["close"], factory.member(committee), "yes", "endorse")
    session.commit()
    page = home(client, rita)
    gate = items(page, "home-near-gate")
    assert gate[0].startswith("Minutes within a week in " + committee.name)
    assert "75% understood (75% needed) · 2 responses (3 needed): 1 more person needed." in gate[0]
    assert {item.split(" in ")[0] for item in gate[1:]} == {
        "Water before nine",
        "Share the hoses",
        "Compost rota",
        "Quiet hours",
    }
    assert "Far away" not in section(page, "home-near-gate")


def test_recent_activity_is_what_others_did_in_my_communities(client, estate):
    page = home(client, estate["rita"])
    activity = items(page, "home-activity")
    assert "Gus Gardener commented on Water before nine" in " | ".join(activity)
    assert "Gus Gardener marked Quiet hours open for discussion" in " | ".join(activity)
    assert "Cora Chair proposed Minutes within a week" in " | ".join(activity)
    comment_link = f"/c/{estate['garden'].slug}/comments/{estate['mentioned'].id}"
    assert f'href="{comment_link}"' in section(page, "home-activity")
    # Her own comment, the hidden one, and anything from communities she is not in: never.
    assert not any(item.startswith("Rita Reader") for item in activity)
    assert "commented on Compost rota" not in " | ".join(activity)
    assert "Far away" not in page and "Elsewhere" not in page


def test_a_member_of_no_community_is_shown_where_to_start(client, factory):
    factory.community(visibility="members")
    loner = factory.user("Lone Ranger")
    page = home(client, loner)
    assert 'id="home-no-community"' in page
    assert "Nothing unread." in page
    assert "No norm is open for discussion in your communities." in page


def test_the_home_page_takes_the_same_queries_for_one_community_or_five(
    app, client, estate, factory, session
):
    rita, engine = estate["rita"], app.extensions["normhub.engine"]
    login(client, rita)

    def statements() -> list[str]:
        seen = []

        def listener(*args):
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return seen

    few = statements()
    for n in range(4):
        place = factory.community(visibility="members" if n % 2 else "public")
        factory.member(place, rita)
        writer = factory.member(place, name=f"Writer {n}")
        for k in range(6):
            norm = factory.norm(place, writer, title=f"Rule {n}-{k}")
            if k % 3 == 0:
                record_event(session, rita, norm, 1, "read")
                rewrite(factory, session, norm, writer)
            post_comment(session, norm, writer, f"@{rita.handle} look at {k}.")
        change_status(session, factory.norm(place, writer, status="draft"), writer, "open")
    session.commit()
    many = statements()
    page = client.get("/").get_data(as_text=True)
    assert len(items(page, "home-notifications")) == 5
    assert len(items(page, "home-activity")) == 10
    assert "(25 unread)" in page  # the bell's count, read once for the menu and the page
    assert len(many) == len(few), "\n".join(many)
    # The login's lookup, the page's twelve and the bell's count: a budget, not a tally.
    assert sum(s.startswith("SELECT") for s in many) <= 14
    assert sum("FROM notifications" in s for s in many) == 2  # the count and the list


def test_the_home_lists_are_the_head_of_the_reading_queue_not_the_newest_norms(
    client, factory, session
):
    """The home page loads only the norms it shows: they must be the first of the reading
    queue, whose order (closest to the gate, then the path, then activity) is not the
    order of the rows (newest first, or by id)."""
    garden = factory.community(coverage_threshold_pct=50, coverage_min_responses=1)
    rita = factory.member(garden, name="Rita Reader")
    author = factory.member(garden, name="Ann Author")
    readers = [factory.member(garden) for _ in range(4)]
    # Seven open norms; the oldest-created (least recently active) are closest to the
    # gate: endorsements by more readers shrink each one's gap.
    opened = [factory.norm(garden, author, title=f"Open {n}") for n in range(7)]
    for n, norm in enumerate(opened):
        for reader in readers[: max(0, 3 - n)]:
            record_response(session, norm, reader, "yes", "endorse")
    # Norms in force whose path order (the second builds on the third) differs from
    # their ids and activity.
    in_force = [
        factory.norm(garden, author, title=f"Rule {n}", status="in_force") for n in range(3)
    ]
    set_prerequisites(session, in_force[1], author, [in_force[2]])
    # Six norms Rita read that changed since, the newest changed first.
    stale = [factory.norm(garden, author, title=f"Stale {n}") for n in range(6)]
    for norm in stale:
        record_event(session, rita, norm, 1, "read")
    for norm in reversed(stale):
        rewrite(factory, session, norm, author)
    for norm in opened:  # the newest activity on the norms furthest from the gate
        norm.last_activity_at = utcnow()
        session.commit()
    session.commit()

    queue = reading_queue(session, rita)
    to_read = [item.norm.title for item in queue if item.reason != "stale"]
    changed = [item.norm.title for item in queue if item.reason == "stale"]
    assert to_read[:5] == ["Open 0", "Open 1", "Open 2", "Open 6", "Open 5"]
    newest_first = sorted(opened, key=lambda norm: norm.last_activity_at, reverse=True)
    assert [norm.title for norm in newest_first[:5]] != to_read[:5]
    head = queue_head(session, rita, 5)
    assert [item.norm.title for item in head.to_read] == to_read[:5]
    assert [item.norm.title for item in head.changed] == changed[:5]
    assert (head.to_read_total, head.changed_total) == (len(to_read), len(changed)) == (10, 6)
    # With one open norm left unread, the norms in force follow in path order.
    for norm in opened[1:]:
        record_event(session, rita, norm, 1, "read")
    session.commit()
    to_read = [i.norm.title for i in reading_queue(session, rita) if i.reason != "stale"]
    assert to_read == ["Open 0", "Rule 2", "Rule 0", "Rule 1"]
    assert [item.norm.title for item in queue_head(session, rita, 3).to_read] == to_read[:3]

    page = home(client, rita)
    assert [i.split(" in ")[0] for i in items(page, "home-to-read")] == to_read[:5]
    assert [i.split(" in ")[0] for i in items(page, "home-changed")] == changed[:5]
    assert 'Changed since you read them <span class="muted">(6)</span>' in page
