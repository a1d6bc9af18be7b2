"""The record: a community's (clear wins, retirements and why, failed assumptions, the
"checked before calling out" rate by month) and a member's (counts and shares, each a link to
what it counts), on the pages and in the API, under the same privacy as everything else."""

from __future__ import annotations

import html
import re
from datetime import datetime

import pytest

from normhub.api.services import create_token
from normhub.norms.services import change_status
from tests.conftest import login
from tests.records_world import remind, review, rosas_record


def text_of(response) -> str:
    """A page's words, without tags, spaces collapsed."""
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def section(response, element_id: str) -> str:
    """The words of the element with ``element_id`` (up to its closing tag of the same name)."""
    page = response.get_data(as_text=True)
    match = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"', page)
    assert match, element_id
    end = page.index(f"</{match.group(1)}>", match.end())
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page[match.start() : end])).split())


def bearer(session, user) -> dict:
    _, secret = create_token(session, user, "records")
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


# -- A community's record -------------------------------------------------------------------


@pytest.fixture
def garden(session, factory):
    """A community with a history: norms kept, revised and retired by review, reminders over
    three months."""
    community = factory.community(name="Allotment")
    steward = factory.member(community, role="steward", name="Stella Steward")
    ada = factory.member(community, name="Ada Author")
    people = [factory.member(community, name=f"Member {i}") for i in range(3)]
    win = factory.norm(community, ada, status="in_force", title="Shut the gate behind you")
    revised = factory.norm(community, ada, status="in_force", title="Water before nine")
    factory.norm(community, ada, status="in_force", title="Share the wheelbarrow")
    noted = factory.norm(community, ada, status="in_force", title="No bonfires in June")
    by_review = factory.norm(community, ada, status="in_force", title="Volunteer rota")
    factory.norm(community, ada, status="open", title="Compost rules")

    review(
        session,
        win,
        decider=steward,
        outcome="revise",
        closed_at=datetime(2026, 1, 5),
        answers={people[0]: "held", people[1]: "failed"},
        assumption_outcomes={people[0]: ["held", "held"], people[1]: ["held", "failed"]},
    )
    review(
        session,
        win,
        decider=steward,
        outcome="kept",
        closed_at=datetime(2026, 3, 1),
        answers={p: "held" for p in people},
        assumption_outcomes={p: ["held", "held"] for p in people},
    )
    review(
        session,
        revised,
        decider=steward,
        outcome="kept",
        closed_at=datetime(2026, 2, 1),
        answers={people[0]: "held"},
    )
    review(
        session,
        revised,
        decider=steward,
        outcome="revise",
        closed_at=datetime(2026, 4, 1),
        answers={p: "failed" for p in people},
        assumption_outcomes={
            people[0]: ["failed", "held"],
            people[1]: ["failed", "held"],
            people[2]: ["held", "held"],
        },
    )
    review(
        session,
        by_review,
        decider=steward,
        outcome="retire",
        closed_at=datetime(2026, 5, 1),
        note="Nobody signed up after March: the rota assumed volunteers we do not have.",
        answers={p: "failed" for p in people},
        assumption_outcomes={p: ["failed", "unclear"] for p in people},
    )
    change_status(session, noted, steward, "retired", note="The council banned bonfires anyway.")
    # An open round counts for nothing yet.
    review(session, win, outcome=None, closed_at=None, answers={people[2]: "failed"})

    sender, to = people[0], people[1]
    months = {
        # (year, month): (reminders after a check that found them exposed, after one
        # that did not, shares)
        (2026, 9): (9, 3, 0),
        (2026, 10): (2, 0, 0),
        (2026, 11): (7, 2, 1),
    }
    for (year, month), (exposed, unexposed, shares) in months.items():
        for day in range(1, exposed + 1):
            remind(session, win, sender, to, at=datetime(year, month, day, 12))
        for day in range(1, unexposed + 1):
            remind(
                session, win, sender, to, at=datetime(year, month, 20 + day), found_exposed=False
            )
        for _ in range(shares):
            remind(
                session,
                win,
                sender,
                to,
                at=datetime(year, month, 28),
                kind="share",
                found_exposed=False,
            )
    session.commit()
    return community, steward


@pytest.fixture
def garden_page(client, garden):
    """The garden's record page, as anyone sees it."""
    community, _steward = garden
    return client.get(f"/c/{community.slug}/record")


def test_the_community_record_tells_what_its_norms_came_to(garden_page):
    page = garden_page
    assert section(page, "record-in-force") == "3"  # the win, the revised, the wheelbarrow
    assert section(page, "record-clear-wins") == "1 of 3 in force"
    assert section(page, "record-retired") == "2"

    # Kept the last time it was reviewed: a win; kept once and then sent back to revise: not.
    wins = section(page, "clear-wins")
    assert "Shut the gate behind you kept 2026-03-01 · reviewed 2 times" in wins
    assert "Water before nine" not in wins and "Share the wheelbarrow" not in wins

    retired = section(page, "retired")
    assert "No bonfires in June" in retired and "The council banned bonfires anyway." in retired
    assert (
        "Volunteer rota retired" in retired
        and "after a review Nobody signed up after March: the rota assumed volunteers" in retired
    )

    failed = section(page, "failed-assumptions")
    # The rota's first assumption failed in its one review, by all three answers; the
    # watering rule's first by two of three; a tie (1 held, 1 failed) is not a failure.
    assert failed.index("Volunteer rota") < failed.index("Water before nine")
    assert "failed in 1 of 1 review; 3 of 3 answers said it failed" in failed
    assert "failed in 1 of 1 review; 2 of 3 answers said it failed" in failed
    assert failed.count("“") == 2
    assert "Shut the gate" not in failed


def test_the_checked_before_calling_out_rate_is_given_by_month_in_numbers(garden_page):
    page = garden_page
    # Small numbers stay numbers; a percentage only from ten reminders up.
    assert section(page, "month-2026-11") == "November 2026 7 of 9 reminders 1"
    assert section(page, "month-2026-10") == "October 2026 2 of 2 reminders 0"
    assert section(page, "month-2026-09") == "September 2026 9 of 12 reminders (75 %) 0"
    body = page.get_data(as_text=True)
    assert body.index('id="month-2026-11"') < body.index('id="month-2026-09"')  # newest first
    assert 'aria-label="78%"' in body and 'aria-label="100%"' in body and 'aria-label="75%"' in body
    assert section(page, "checked-overall") == (
        "18 of 23 reminders (78 %) came after a check that found the person had read the norm."
        " 1 time a member shared the norm instead."
    )
    # Aggregates only: nobody is named.
    assert "Member 0" not in body and "Member 1" not in body


def test_the_community_record_in_the_api_says_the_same(client, session, garden):
    community, steward = garden
    got = client.get(
        f"/api/v1/communities/{community.slug}/record", headers=bearer(session, steward)
    )
    assert got.status_code == 200
    record = got.get_json()
    assert record["in_force"] == 3
    assert record["clear_wins"]["count"] == 1
    assert [n["title"] for n in record["clear_wins"]["norms"]] == ["Shut the gate behind you"]
    assert record["clear_wins"]["norms"][0]["reviews"] == 2
    reasons = {n["title"]: (n["reason"], n["by_review"]) for n in record["retired"]["norms"]}
    assert reasons["No bonfires in June"] == ("The council banned bonfires anyway.", False)
    assert reasons["Volunteer rota"][1] is True
    assert reasons["Volunteer rota"][0].startswith("Nobody signed up after March")
    assert [
        (f["norm"]["title"], f["reviews_failed"], f["answers_failed"])
        for f in record["failed_assumptions"]
    ] == [
        (
            "Volunteer rota",
            {"count": 1, "of": 1, "percent": None},
            {"count": 3, "of": 3, "percent": None},
        ),
        (
            "Water before nine",
            {"count": 1, "of": 1, "percent": None},
            {"count": 2, "of": 3, "percent": None},
        ),
    ]
    checked = record["checked_before_calling_out"]
    assert checked["reminders"] == {"count": 18, "of": 23, "percent": 78}
    assert checked["shares_instead"] == 1
    assert checked["months"] == [
        {
            "month": "2026-11",
            "reminders": {"count": 7, "of": 9, "percent": None},
            "shares_instead": 1,
        },
        {
            "month": "2026-10",
            "reminders": {"count": 2, "of": 2, "percent": None},
            "shares_instead": 0,
        },
        {
            "month": "2026-09",
            "reminders": {"count": 9, "of": 12, "percent": 75},
            "shares_instead": 0,
        },
    ]


def test_an_empty_record_says_so(client, factory):
    community = factory.community()
    page = client.get(f"/c/{community.slug}/record")
    assert section(page, "record-clear-wins") == "0 of 0 in force"
    assert "No norm in force has been kept by a review yet." in text_of(page)
    assert "No norm has been retired." in text_of(page)
    assert section(page, "checked-overall") == "Nobody has reminded anyone of a norm here yet."
    assert 'id="community-record-link"' in client.get(f"/c/{community.slug}").get_data(as_text=True)


def test_a_members_only_record_is_not_found_outside(client, session, factory):
    hidden = factory.community(visibility="members")
    member = factory.member(hidden)
    outsider = factory.user("Otto Outsider")
    factory.norm(hidden, member, status="in_force", title="Minutes stay in the room")
    url = f"/c/{hidden.slug}/record"
    assert client.get(url).status_code == 404  # before any login is asked for
    login(client, outsider)
    assert client.get(url).status_code == 404
    api = f"/api/v1/communities/{hidden.slug}/record"
    assert client.get(api, headers=bearer(session, outsider)).status_code == 404
    client.post("/logout")
    login(client, member)
    assert section(client.get(url), "record-in-force") == "1"
    assert client.get(api, headers=bearer(session, member)).get_json()["in_force"] == 1


# -- A member's record ----------------------------------------------------------------------


@pytest.fixture
def world(session, factory):
    """Rosa, active in a members-only and a public community (``rosas_record`` counts it)."""
    return rosas_record(session, factory)


@pytest.fixture
def seen_by(client, world):
    """Log in as one of the viewers ("anonymous": log out) and get Rosa's member page."""

    def page_for(who: str):
        client.post("/logout")
        if who != "anonymous":
            login(client, world.viewers[who])
        return client.get(f"/members/{world.rosa.handle}")

    return page_for


@pytest.fixture
def api_record_for(client, session, world):
    """Rosa's record from the API, asked with a token of one of the viewers."""

    def response_for(who: str):
        url = f"/api/v1/members/{world.rosa.handle}/record"
        return client.get(url, headers=bearer(session, world.viewers[who]))

    return response_for


def record_row(page, community) -> str:
    return section(page, f"record-{community.slug}")


ACTIVITY_HIDDEN = "for members of this community"


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_outside_a_members_only_community_nothing_of_it_is_counted(
    world, seen_by, api_record_for, who
):
    a, b = world.hidden, world.public
    page = seen_by(who)
    body = page.get_data(as_text=True)
    assert a.name not in body and a.slug not in body and "Rent talk" not in body
    # B's norms are public; Rosa's reminders and reviews there are for B's members.
    assert record_row(page, b) == f"{b.name} 2 1 1 {ACTIVITY_HIDDEN}"
    assert 'id="record-totals"' not in body  # one community: no totals row
    if who == "outsider":
        got = api_record_for(who)
        record = got.get_json()
        assert a.name not in got.get_data(as_text=True)
        assert [c["community"]["slug"] for c in record["communities"]] == [b.slug]
        assert record["totals"]["proposed"] == 2 and record["totals"]["reminders"] is None
        assert record["communities"][0]["reviews_contributed"] is None
        assert "reminders" not in record["communities"][0]["links"]


def test_a_fellow_member_of_the_public_community_sees_activity_there_only(
    world, seen_by, api_record_for
):
    a, b = world.hidden, world.public
    page = seen_by("fellow in B")
    assert a.name not in page.get_data(as_text=True)
    assert record_row(page, b) == f"{b.name} 2 1 1 1 of 1 reminder 0 1"
    record = api_record_for("fellow in B").get_json()
    (row,) = record["communities"]
    assert row["reminders"] == {
        "made": 1,
        "after_exposed_check": {"count": 1, "of": 1, "percent": None},
        "shares_instead": 0,
    }
    assert row["reviews_contributed"] == 1


def test_a_fellow_member_of_the_members_only_community_sees_both(world, seen_by, api_record_for):
    a, b = world.hidden, world.public
    page = seen_by("fellow in A")
    # In A: 3 proposed, 2 put in force (one since retired), 1 kept; 3 of 4 reminders; 1 share.
    assert record_row(page, a) == f"{a.name} 3 2 1 3 of 4 reminders 1 2"
    # Not a member of B: its public norm counts only.
    assert record_row(page, b) == f"{b.name} 2 1 1 {ACTIVITY_HIDDEN}"
    assert section(page, "record-totals") == "All of these 5 3 2 3 of 4 reminders 1 2"
    record = api_record_for("fellow in A").get_json()
    assert record["totals"]["reminders"]["after_exposed_check"] == {
        "count": 3,
        "of": 4,
        "percent": None,
    }
    assert record["totals"]["proposed"] == 5 and record["totals"]["reviews_contributed"] == 2


def test_a_site_admin_sees_every_count(world, seen_by):
    a, b = world.hidden, world.public
    page = seen_by("site admin")
    assert record_row(page, a) == f"{a.name} 3 2 1 3 of 4 reminders 1 2"
    assert record_row(page, b) == f"{b.name} 2 1 1 1 of 1 reminder 0 1"
    assert section(page, "record-totals") == "All of these 5 3 2 4 of 5 reminders 1 3"


def links_of(page, row_id: str) -> dict[str, str]:
    """The count cell's link in the row, by what it counts."""
    body = page.get_data(as_text=True)
    start = body.index(f'id="{row_id}"')
    row = body[start : body.index("</tr>", start)]
    return {
        kind: html.unescape(href)
        for kind, href in re.findall(r'data-count="([\w-]+)"[^>]*><a href="([^"]+)"', row)
    }


def listed(client, url) -> list[str]:
    page = client.get(url)
    assert page.status_code == 200
    return re.findall(
        r'<li id="[\w-]+"[^>]*><a href="[^"]+">([^<]+)</a>', page.get_data(as_text=True)
    )


def test_each_count_opens_what_it_counts(client, world, seen_by):
    a, b = world.hidden, world.public
    page = seen_by("fellow in A")
    links = links_of(page, f"record-{a.slug}")
    assert set(links) == {"proposed", "in-force", "kept", "reminders", "reviews"}
    assert sorted(listed(client, links["proposed"])) == [
        "Quiet hours after ten",
        "Rent talk stays in the room",
        "Shared laundry rota",
    ]
    assert sorted(listed(client, links["in-force"])) == [
        "Quiet hours after ten",
        "Rent talk stays in the room",
    ]
    assert listed(client, links["kept"]) == ["Rent talk stays in the room"]
    reminders = client.get(links["reminders"]).get_data(as_text=True)
    assert (
        reminders.count('data-kind="reminder"') == 4 and reminders.count('data-kind="share"') == 1
    )
    assert "Anna Tenant" not in reminders  # whom she reminded is not for the whole community
    assert sorted(listed(client, links["reviews"])) == [
        "Quiet hours after ten",
        "Rent talk stays in the room",
    ]
    totals = links_of(page, "record-totals")
    assert len(listed(client, totals["proposed"])) == 5
    # B's row counts only B's norms (Rosa's draft there is hers to show: its page names her).
    assert sorted(listed(client, links_of(page, f"record-{b.slug}")["proposed"])) == [
        "Ladders back by dusk",
        "Pick only ripe fruit",
    ]


def test_the_lists_keep_the_same_privacy(client, world, seen_by):
    a = world.hidden
    seen_by("outsider")
    base = f"/members/{world.rosa.handle}/record"
    assert client.get(f"{base}/proposed?community={a.slug}").status_code == 404
    assert client.get(f"{base}/reminders?community={a.slug}").status_code == 404
    proposed = client.get(f"{base}/proposed").get_data(as_text=True)
    assert a.name not in proposed and "Rent talk" not in proposed
    assert sorted(listed(client, f"{base}/proposed")) == [
        "Ladders back by dusk",
        "Pick only ripe fruit",
    ]
    reminders = client.get(f"{base}/reminders")
    assert "shown only to fellow members" in text_of(reminders) and "Pick only" not in text_of(
        reminders
    )
    assert listed(client, f"{base}/reviews") == []
    assert client.get(f"{base}/scores").status_code == 404
    assert client.get(f"{base}/proposed?community=x%00").status_code == 404
    assert client.get("/members/nobody-by-this-handle/record/proposed").status_code == 404
