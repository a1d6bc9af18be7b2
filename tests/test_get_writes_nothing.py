"""Nothing a GET does writes: every GET route of the app, walked as an anonymous visitor,
a member and a steward, leaves every table exactly as it was.

Each request says it is an image load (``Sec-Fetch-Dest: image``), as an <img> in a
comment pointing anywhere on the site would. The one documented exception is
the norm page's "opened" ledger entry on a person's own top-level visit: the
second walk navigates and finds that, and nothing else, written.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import select

import normhub.models  # noqa: F401  (registers every table)
from normhub.accounts import reset
from normhub.accounts.verification import confirmation_token
from normhub.api.services import create_token
from normhub.communities.invites import create_invite
from normhub.db import Base
from normhub.digest.preferences import make_unsubscribe_token
from normhub.discussion.services import post_comment
from normhub.exposure.check import check_exposure, record_check
from normhub.exposure.nudges import nudge
from normhub.norms.services import revise_norm
from normhub.notifications.emails import unsubscribe_token as notification_unsubscribe_token
from normhub.responses.services import record_response
from normhub.reviews.schedule import open_review
from normhub.reviews.services import record_answer
from tests.conftest import login

IMAGE = {"Sec-Fetch-Dest": "image", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Site": "same-origin"}
NAVIGATE = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-User": "?1"}

# GET routes the walk cannot fill in, and why. Empty: every GET route is walked
# (the test fails if a new one appears that it cannot build, so this list is kept
# honest).
SKIPPED: dict[str, str] = {}


@pytest.fixture
def town(factory, session):
    """A community with a norm in two versions, a response, a comment and its reply,
    an invite, a nudge, an API token and a recorded check: something behind every page."""
    owner = factory.user("Olga Owner")
    community = factory.community(owner)
    steward = factory.member(community, role="steward", name="Stella Steward")
    member = factory.member(community, name="Mia Member")
    author = factory.member(community, name="Arno Author")
    norm = factory.norm(community, author, title="Ask before forwarding")
    revise_norm(session, norm, author, factory.draft(body="Reworded."), "Reworded.", True)
    record_response(session, norm, member, "yes", "endorse")
    comment = post_comment(session, norm, member, "Does this cover screenshots?")
    post_comment(session, norm, author, "It does.", parent=comment)
    invite = create_invite(session, community, steward)
    nudge(session, steward, norm, [member])
    create_token(session, member, "scripts")
    record_check(session, steward, member, norm, check_exposure(session, norm, member))
    review = open_review(session, norm)
    record_answer(session, review, member, "held", "It worked.", [])
    session.commit()
    check_id = session.scalar(select(normhub.models.ExposureCheck.id))
    return {
        "community": community,
        "norm": norm,
        "steward": steward,
        "member": member,
        "comment": comment,
        "invite": invite,
        "check_id": check_id,
        "review_id": review.id,
    }


def route_values(app, town) -> dict[str, dict]:
    """The URL values each endpoint's GET route needs, from the town's data."""
    community, norm, member = town["community"], town["norm"], town["member"]
    common = {
        "slug": community.slug,
        "norm_ref": norm.slug,
        "number": 1,
        "comment_id": town["comment"].id,
        "user_id": member.id,
        "handle": member.handle,
        "part": "reminders",  # a list a member's record opens
        "community_slug": community.slug,
        "member_ref": member.id,
        "check_id": town["check_id"],
        "review_id": town["review_id"],
        "filename": "style.css",
    }
    tokens = {
        "communities.invite": town["invite"].token,
        "digest.unsubscribe": make_unsubscribe_token(
            app.config["SECRET_KEY"], member.id, [community.id]
        ),
        "password_reset.reset_password": reset.make_token(app.secret_key, member),
        # A confirmation link writes once, when it first confirms an address: for an
        # address confirmed already (every factory account's) it must write nothing.
        "accounts.confirm_email": confirmation_token(member, member.email),
        "notifications.unsubscribe": notification_unsubscribe_token(member.id, "mention"),
    }
    values = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIPPED:
            continue
        known = {**common, "token": tokens.get(rule.endpoint)}
        if all(known.get(name) is not None for name in rule.arguments):
            values[rule.endpoint] = {name: known[name] for name in rule.arguments}
    return values


def urls(app, town) -> list[str]:
    """Every GET route once, and the query strings that change what a page does."""
    community, norm, member = town["community"], town["norm"], town["member"]
    values = route_values(app, town)
    get_routes = {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods}
    assert get_routes - set(values) == set(SKIPPED), "a GET route the walk cannot build"
    adapter = app.url_map.bind("normhub.test")
    found = [adapter.build(endpoint, args) for endpoint, args in sorted(values.items())]
    with_query = {
        # a link that pre-fills the check form, as the norm page and coverage give
        "exposure.check_form": {
            "community": community.slug,
            "norm": norm.slug,
            "member": member.id,
            "as_of": "2030-01-01T00:00:00",
            "note": "Prefilled",
        },
        "norms.diff": {"from": 1, "to": 2},
        "search.results": {"q": "forwarding"},
        "search.api_search": {"q": "forwarding"},
        "exposure.reading_queue": {"community": community.slug},
        "digest.preview": {"period": "daily"},
        "exposure.checks_about_me": {"page": 2},
        "communities.invites": {"new": town["invite"].id},
        # "Show how others answered": a link, so a GET that writes nothing
        "norms.show": {"tallies": 1},
        "writing.suggest_members": {"q": "mi"},
    }
    for endpoint, query in with_query.items():
        found.append(adapter.build(endpoint, values[endpoint]) + "?" + urlencode(query))
    return found


def snapshot(app) -> dict[str, list]:
    """Every row of every table, in a transaction of its own."""
    engine = app.extensions["normhub.engine"]
    with engine.connect() as connection:
        return {
            table.name: sorted(map(repr, connection.execute(table.select()).all()))
            for table in Base.metadata.sorted_tables
        }


def walk(client, app, town, headers) -> dict[str, int]:
    statuses = {}
    for url in urls(app, town):
        response = client.get(url, headers=headers)
        assert response.status_code < 500, (url, response.get_data(as_text=True)[:500])
        statuses[url] = response.status_code
    return statuses


def changed(before: dict, after: dict) -> dict[str, int]:
    """Per table, how many rows were added, removed or altered."""
    return {
        name: len(set(before[name]) ^ set(after[name]))
        for name in before
        if before[name] != after[name]
    }


@pytest.mark.parametrize("who", ["anonymous", "member", "steward"])
def test_no_get_writes_anything(app, client, session, town, who):
    if who != "anonymous":
        login(client, town[who])
    before = snapshot(app)
    statuses = walk(client, app, town, IMAGE)
    after = snapshot(app)
    assert sum(map(len, after.values())) == sum(map(len, before.values()))
    assert changed(before, after) == {}
    # The walk reached real pages, not only refusals.
    assert sum(status == 200 for status in statuses.values()) >= 15, statuses


def test_a_top_level_visit_writes_only_the_opened_entry(app, client, session, town):
    steward = town["steward"]  # has not opened the norm yet
    login(client, steward)
    before = snapshot(app)
    walk(client, app, town, NAVIGATE)
    after = snapshot(app)
    # The norm page records that the steward opened it: one ledger row, the summary
    # row it keeps, and the coverage tally the database keeps from that (a trigger).
    # Its versions and diff pages are other URLs: no record.
    assert changed(before, after) == {
        "exposure_events": 1,
        "exposure_summaries": 1,
        "coverage_tallies": 1,
    }
    [event] = set(after["exposure_events"]) - set(before["exposure_events"])
    assert "'opened'" in event and f", {steward.id}, {town['norm'].id}, 2, " in event
