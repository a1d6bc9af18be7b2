"""Exposure that ages: a re-read every N months, asked by a community or a norm.

Stories told through the services and the pages: a fresh reading counts; once
the period has passed it is stale by age on the check page, in the API, in the
reading queue, on the coverage page and on the community's norm index; reading
again makes it fresh; "as of" answers replay it; a norm's own period beats the
community's; an outsider of a members-only community sees none of it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from normhub.communities.models import Community, Membership
from normhub.db import utcnow
from normhub.exposure.ageing import months_between, months_since_sql
from normhub.exposure.coverage import coverage, not_exposed_for_steward
from normhub.exposure.ledger import record_event
from normhub.exposure.models import ExposureEvent, ExposureSummary
from normhub.exposure.nudges import nudge
from normhub.exposure.reading_queue import reading_queue
from normhub.exposure.standing import standing
from normhub.norms.models import Norm, NormVersion, StatusChange
from normhub.norms.services import change_status
from normhub.responses.services import record_response
from tests.conftest import login, new_client
from tests.test_api_exposure import assert_matches_schema, coverage_url, exposure_url, token_for
from tests.test_browsing_marks import rows
from tests.test_exposure_pages import FreshSessionClient, make_check, norm_path, peek, read_form
from tests.test_query_counts import StatementCounter


@pytest.fixture
def client(app):
    app.test_client_class = FreshSessionClient
    return app.test_client()


def months_ago(months: int, now: datetime | None = None) -> datetime:
    """The same day and time ``months`` calendar months before ``now`` (day kept under 29)."""
    now = now or utcnow()
    total = now.year * 12 + now.month - 1 - months
    return now.replace(year=total // 12, month=total % 12 + 1, day=min(now.day, 28))


@pytest.fixture
def street(factory, session):
    """A community asking for a re-read every 12 months, an in-force norm, and three readers:
    Fresh read it 2 months ago, Old 14 months ago, Never never opened it."""
    community = factory.community(reread_months=12, coverage_threshold_pct=50)
    author = factory.member(community, name="Ada Author")
    steward = factory.member(community, role="steward", name="Stella Steward")
    fresh = factory.member(community, name="Fresh Reader")
    old = factory.member(community, name="Old Reader")
    never = factory.member(community, name="Never Reader")
    norm = factory.norm(community, author, status="in_force", title="Cite the base")
    record_event(session, fresh, norm, 1, "read", at=months_ago(2))
    record_event(session, old, norm, 1, "read", at=months_ago(14))
    session.commit()
    return {
        "community": community,
        "author": author,
        "steward": steward,
        "fresh": fresh,
        "old": old,
        "never": never,
        "norm": norm,
    }


STALE_SENTENCE = "Last read 14 months ago; this community asks for a re-read every 12."


def test_a_fresh_reading_counts_and_an_old_one_is_stale_by_age(session, street):
    norm, fresh, old = street["norm"], street["fresh"], street["old"]

    now_fresh = standing(session, norm, fresh)
    assert (now_fresh.stale_by_age, now_fresh.months_since_read) == (False, 2)
    assert now_fresh.fully_exposed and now_fresh.recommendation.code == "ask_understanding"
    assert (now_fresh.reread_months, now_fresh.reread_asked_by) == (12, "community")
    assert "re-read" not in now_fresh.answer

    aged = standing(session, norm, old)
    assert (aged.stale_by_age, aged.months_since_read, aged.level) == (True, 14, "read")
    assert not aged.fully_exposed
    assert aged.recommendation.code == "ask_reread"
    assert STALE_SENTENCE in aged.answer
    assert aged.to_dict()["stale_by_age"] is True


def test_the_period_passing_puts_the_norm_back_in_the_queue_and_on_the_lists(session, street):
    norm, fresh, old, never = street["norm"], street["fresh"], street["old"], street["never"]
    assert reading_queue(session, fresh) == []
    [item] = reading_queue(session, old)
    assert (item.norm.id, item.reason) == (norm.id, "reread")
    assert item.months_since_read == 14 and item.reread_months == 12
    assert item.reread_words == (
        "You last read it 14 months ago; the community asks for a re-read every 12 months"
    )
    norm_id, reason, _gap = item  # still a queue item of three
    assert (norm_id.id, reason) == (norm.id, "reread")

    counted = coverage(session, norm)
    # The gate's count keeps Old at "read"; the re-read due is counted beside it.
    assert counted.levels["read"] == 2 and counted.reread_due == 1
    assert counted.to_dict()["reread_due"] == 1 and counted.to_dict()["reread_months"] == 12
    listed = dict(
        (user.display_name, words)
        for user, words in not_exposed_for_steward(session, norm, street["steward"]).members
    )
    assert listed["Old Reader"] == "read 14 months ago; a re-read is asked every 12 months"
    assert listed["Never Reader"] == "never opened" and "Fresh Reader" not in listed
    nudged = {n.member_id for n in nudge(session, street["steward"], norm)}
    assert {old.id, never.id} <= nudged and fresh.id not in nudged


def test_reading_again_makes_it_fresh_and_the_ledger_says_reread(session, street):
    norm, old, fresh = street["norm"], street["old"], street["fresh"]
    event = record_event(session, old, norm, 1, "read")
    assert event is not None and event.kind == "reread"
    # A second reading of a fresh one is still noise.
    assert record_event(session, fresh, norm, 1, "read") is None
    session.commit()
    again = standing(session, norm, old)
    assert (again.stale_by_age, again.months_since_read, again.fully_exposed) == (False, 0, True)
    assert reading_queue(session, old) == []
    assert coverage(session, norm).reread_due == 0
    kinds = session.scalars(
        select(ExposureEvent.kind)
        .where(ExposureEvent.user_id == old.id, ExposureEvent.norm_id == norm.id)
        .order_by(ExposureEvent.id)
    ).all()
    assert kinds == ["read", "reread"]


def backdate(session, community, norm, to: datetime) -> None:
    """The community's members joined, and the norm was written and put in force, at ``to``."""
    session.execute(
        update(Membership).where(Membership.community_id == community.id).values(joined_at=to)
    )
    session.execute(update(NormVersion).where(NormVersion.norm_id == norm.id).values(created_at=to))
    session.execute(
        update(StatusChange).where(StatusChange.norm_id == norm.id).values(changed_at=to)
    )
    session.execute(
        update(ExposureEvent)
        .where(ExposureEvent.norm_id == norm.id, ExposureEvent.kind == "authored")
        .values(created_at=to)
    )
    session.execute(update(Norm).where(Norm.id == norm.id).values(status_changed_at=to))


def test_as_of_an_instant_replays_the_ageing(session, street):
    norm, old = street["norm"], street["old"]
    backdate(session, street["community"], norm, months_ago(20))
    reread_at = utcnow() - timedelta(days=3)
    record_event(session, old, norm, 1, "read", at=reread_at)
    session.commit()
    # Eight months after the first reading: still fresh then.
    then = standing(session, norm, old, as_of=months_ago(6))
    assert (then.stale_by_age, then.months_since_read) == (False, 8)
    # Just before the re-read: 13 months old, stale by age then.
    before = standing(session, norm, old, as_of=reread_at - timedelta(hours=1))
    assert before.stale_by_age and before.recommendation.code == "ask_reread"
    assert "Last read 13 months ago" in before.answer
    after = standing(session, norm, old, as_of=reread_at + timedelta(hours=1))
    assert not after.stale_by_age and after.months_since_read == 0


def test_a_norms_own_period_beats_the_communitys(session, street):
    norm, fresh, old = street["norm"], street["fresh"], street["old"]
    norm.reread_months = 24  # longer: Old's 14-month reading is fine for this norm
    session.commit()
    assert not standing(session, norm, old).stale_by_age
    assert reading_queue(session, old) == []
    norm.reread_months = 1  # shorter: Fresh's 2-month reading has aged
    session.commit()
    aged = standing(session, norm, fresh)
    assert aged.stale_by_age and aged.reread_asked_by == "norm"
    assert "Last read 2 months ago; this norm asks for a re-read every 1." in aged.answer
    assert [item.reason for item in reading_queue(session, fresh)] == ["reread"]
    assert reading_queue(session, fresh)[0].reread_words.endswith(
        "this norm asks for a re-read every 1 month"
    )
    norm.reread_months = 0  # none for this norm, whatever the community asks
    session.commit()
    assert not standing(session, norm, old).stale_by_age
    assert coverage(session, norm).reread_months is None
    assert reading_queue(session, old) == []


def test_the_in_force_gate_is_not_undone_by_ageing(session, factory):
    community = factory.community(reread_months=6, coverage_threshold_pct=50)
    author = factory.member(community, name="Author")
    steward = factory.member(community, role="steward", name="Steward")
    readers = [factory.member(community, name=f"Reader {i}") for i in range(3)]
    norm = factory.norm(community, author, title="Old but understood")
    for reader in readers:
        record_response(session, norm, reader, "yes", "endorse")
    # They understood it nine months ago, and have not read it since.
    session.execute(
        update(ExposureSummary)
        .where(ExposureSummary.user_id.in_([reader.id for reader in readers]))
        .values(level_at=months_ago(9))
    )
    session.commit()
    # Understood nine months ago, read no later: every reading is stale by age ...
    assert coverage(session, norm).reread_due == 3
    # ... and yet the community did understand this text: it may go into force.
    change_status(session, norm, steward, "in_force")
    session.commit()
    assert session.get(Norm, norm.id).status == "in_force"


@pytest.mark.parametrize(
    ("earlier", "later", "months"),
    [
        (datetime(2025, 3, 15, 12, 0, 0), datetime(2025, 4, 15, 12, 0, 0), 1),
        (datetime(2025, 3, 15, 12, 0, 0), datetime(2025, 4, 15, 11, 59, 59), 0),
        (datetime(2025, 1, 31, 9, 0, 0), datetime(2025, 2, 28, 23, 0, 0), 0),
        (datetime(2025, 1, 31, 9, 0, 0), datetime(2025, 3, 1, 0, 0, 0), 1),
        (datetime(2024, 12, 1, 0, 0, 0), datetime(2026, 2, 1, 0, 0, 0), 14),
        (datetime(2026, 2, 1, 0, 0, 0), datetime(2024, 12, 1, 0, 0, 0), 0),
    ],
)
def test_months_are_counted_the_same_in_python_and_sql(session, factory, earlier, later, months):
    community = factory.community()
    reader = factory.member(community)
    norm = factory.norm(community)
    record_event(session, reader, norm, 1, "read", at=earlier)
    session.commit()
    assert months_between(earlier, later) == months
    # The SQL twin over the stored reading: the lists and the check count alike.
    from_sql = session.scalar(
        select(months_since_sql(ExposureSummary.level_at, later)).where(
            ExposureSummary.user_id == reader.id, ExposureSummary.norm_id == norm.id
        )
    )
    assert max(int(from_sql), 0) == months


# -- The pages and the API ---------------------------------------------------------------


def test_the_check_page_and_the_api_say_it_in_plain_words(client, session, street):
    community, norm, old = street["community"], street["norm"], street["old"]
    login(client, street["fresh"])
    made = make_check(client, community, norm, old)
    assert made.status_code == 303
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert STALE_SENTENCE in page
    assert 'data-code="ask_reread"' in page
    assert "due: Last read 14 months ago" in page  # the facts' re-read line
    client.post("/logout")

    headers = token_for(session, street["fresh"])
    document = client.get(exposure_url(community, norm, old), headers=headers).get_json()
    assert_matches_schema(document, "ExposureReport")
    assert document["stale_by_age"] is True
    assert (document["reread_months"], document["reread_asked_by"]) == (12, "community")
    assert document["months_since_read"] == 14
    assert document["recommendation"]["code"] == "ask_reread"
    assert STALE_SENTENCE in document["answer"]
    fresh = client.get(exposure_url(community, norm, street["fresh"]), headers=headers).get_json()
    assert (fresh["stale_by_age"], fresh["months_since_read"]) == (False, 2)
    counted = client.get(coverage_url(community, norm), headers=headers).get_json()
    assert_matches_schema(counted, "Coverage")
    assert (counted["reread_months"], counted["reread_due"]) == (12, 1)
    # Old reads it again: the ledger's timeline says "reread", in the documented shape.
    record_event(session, old, norm, 1, "read")
    session.commit()
    renewed = client.get(
        exposure_url(community, norm, old) + "?timeline=1", headers=headers
    ).get_json()
    assert_matches_schema(renewed, "ExposureReport")
    assert [e["kind"] for e in renewed["timeline"]] == ["reread", "read"]
    assert renewed["stale_by_age"] is False
    counted = client.get(coverage_url(community, norm), headers=headers).get_json()
    assert_matches_schema(counted, "Coverage")
    assert (counted["reread_months"], counted["reread_due"]) == (12, 0)


def test_the_member_sees_the_re_read_asked_and_reads_again(client, session, street):
    community, norm, old = street["community"], street["norm"], street["old"]
    login(client, old)
    queue = client.get("/queue").get_data(as_text=True)
    assert "Re-read asked." in queue
    assert "You last read it 14 months ago; the community asks for a re-read every 12 months" in (
        queue
    )
    home = client.get("/").get_data(as_text=True)
    assert "Re-read asked. You last read it 14 months ago" in home
    index = rows(client.get(f"/c/{community.slug}").get_data(as_text=True))
    assert index["Cite the base"].startswith("Re-read asked ·")

    page = client.get(norm_path(norm)).get_data(as_text=True)
    assert "Re-read asked.</strong> " + STALE_SENTENCE[:-1] + " months." in page
    assert 'id="read-report"' in page
    form = read_form(page)
    response = client.post(
        norm_path(norm, "/read"), data={"version": form["version"], "token": form["token"]}
    )
    assert response.status_code == 303
    kinds = peek(
        session,
        lambda: session.scalars(
            select(ExposureEvent.kind).where(
                ExposureEvent.user_id == old.id, ExposureEvent.norm_id == norm.id
            )
        ).all(),
    )
    assert sorted(kinds) == ["opened", "read", "reread"]
    assert "Re-read asked" not in client.get("/queue").get_data(as_text=True)
    index = rows(client.get(f"/c/{community.slug}").get_data(as_text=True))
    assert index["Cite the base"].startswith("Read, no response yet ·")
    page = client.get(norm_path(norm)).get_data(as_text=True)
    assert 'id="read-report"' not in page


def test_the_coverage_page_counts_readings_due_and_stewards_set_the_norms_period(
    client, session, street
):
    norm = street["norm"]
    login(client, street["fresh"])
    page = client.get(norm_path(norm, "/coverage")).get_data(as_text=True)
    assert "The community asks for a re-read every 12 months" in page
    assert "1 member read the current text longer ago than that" in page
    assert 'id="reread-form"' not in page
    # A member may not set it.
    assert client.post(norm_path(norm, "/reread"), data={"reread": "none"}).status_code == 403

    login(client, street["steward"])
    page = client.get(norm_path(norm, "/coverage")).get_data(as_text=True)
    assert "read 14 months ago; a re-read is asked every 12 months" in page
    assert 'id="reread-form"' in page
    refused = client.post(
        norm_path(norm, "/reread"),
        data={"reread": "months", "months": "121"},
        follow_redirects=True,
    )
    assert "A re-read period is a whole number of months from 1 to 120" in refused.get_data(
        as_text=True
    )
    assert refused.status_code == 200
    missing = client.post(
        norm_path(norm, "/reread"), data={"reread": "months", "months": ""}, follow_redirects=True
    )
    assert "A re-read period is a whole number of months" in missing.get_data(as_text=True)
    assert (
        peek(session, lambda: session.scalar(select(Norm.reread_months).where(Norm.id == norm.id)))
        is None
    )

    saved = client.post(norm_path(norm, "/reread"), data={"reread": "months", "months": "24"})
    assert saved.status_code == 303
    assert (
        peek(session, lambda: session.scalar(select(Norm.reread_months).where(Norm.id == norm.id)))
        == 24
    )
    page = client.get(norm_path(norm, "/coverage")).get_data(as_text=True)
    assert "This norm asks for a re-read every 24 months" in page
    assert "every reading of the current text counted above is recent enough" in page
    client.post(norm_path(norm, "/reread"), data={"reread": "none"})
    assert (
        peek(session, lambda: session.scalar(select(Norm.reread_months).where(Norm.id == norm.id)))
        == 0
    )
    assert 'id="coverage-reread"' not in client.get(norm_path(norm, "/coverage")).get_data(
        as_text=True
    )
    client.post(norm_path(norm, "/reread"), data={"reread": "community"})
    assert (
        peek(session, lambda: session.scalar(select(Norm.reread_months).where(Norm.id == norm.id)))
        is None
    )


@pytest.mark.parametrize("months", ["0", "121", "-3", "twelve"])
def test_the_community_setting_is_checked(client, session, factory, months):
    owner = factory.user("Owner")
    community = factory.community(owner)
    login(client, owner)
    data = {
        "name": community.name,
        "description": "",
        "visibility": community.visibility,
        "join_policy": community.join_policy,
        "coverage_threshold_pct": "75",
        "coverage_min_responses": "3",
        "reread_months": months,
    }
    response = client.post(f"/c/{community.slug}/settings", data=data)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "re-read period is a whole number of months from 1 to 120" in body or (
        "Not a valid integer value" in body
    )
    assert (
        peek(
            session,
            lambda: session.scalar(
                select(Community.reread_months).where(Community.id == community.id)
            ),
        )
        is None
    )
    data["reread_months"] = "12"
    assert client.post(f"/c/{community.slug}/settings", data=data).status_code == 302
    assert (
        peek(
            session,
            lambda: session.scalar(
                select(Community.reread_months).where(Community.id == community.id)
            ),
        )
        == 12
    )
    page = client.get(f"/c/{community.slug}/settings").get_data(as_text=True)
    assert 'name="reread_months"' in page and 'value="12"' in page


def test_an_outsider_of_a_members_only_community_sees_none_of_it(client, session, factory):
    community = factory.community(visibility="members", join_policy="invite", reread_months=12)
    author = factory.member(community, name="Insider Author")
    old = factory.member(community, name="Insider Reader")
    norm = factory.norm(community, author, status="in_force", title="Secret ageing norm")
    record_event(session, old, norm, 1, "read", at=months_ago(14))
    session.commit()
    outsider = factory.user("Olga Outsider")
    login(client, outsider)
    for response in (
        client.get(norm_path(norm)),
        client.get(norm_path(norm, "/coverage")),
        client.post(norm_path(norm, "/reread"), data={"reread": "none"}),
        client.get(f"/queue?community={community.slug}"),
        make_check(client, community, norm, old),
    ):
        assert response.status_code == 404
        body = response.get_data(as_text=True)
        assert "Secret ageing norm" not in body and "re-read" not in body.lower()
    for url in ("/queue", "/"):
        body = client.get(url).get_data(as_text=True)
        assert "Secret ageing norm" not in body and "Re-read asked" not in body
    headers = token_for(session, outsider)
    for url in (exposure_url(community, norm, old), coverage_url(community, norm)):
        answer = client.get(url, headers=headers)
        assert answer.status_code == 404
        assert "stale_by_age" not in answer.get_data(as_text=True)
    assert (
        peek(session, lambda: session.scalar(select(Norm.reread_months).where(Norm.id == norm.id)))
        is None
    )


# -- Queries per page ---------------------------------------------------------------------


def test_queries_per_page_stay_constant_as_readings_age(app, session, factory):
    owner = factory.user("Olga Owner")
    community = factory.community(owner, reread_months=12)
    steward = factory.member(community, role="steward", name="Sam Steward")
    reader = factory.member(community, name="Rea Reader")
    author = factory.member(community, name="Ann Author")
    norm = factory.norm(community, author, status="in_force", title="Cite the base")
    session.commit()

    def age(n: int) -> None:
        """More members and norms, each read long ago by everyone."""
        people = [factory.member(community, name=f"Aged {n}-{i}") for i in range(5)]
        norms = [factory.norm(community, author, title=f"Aged norm {n}-{i}") for i in range(3)]
        for other in [norm, *norms]:
            for person in [reader, *people]:
                record_event(session, person, other, 1, "read", at=months_ago(13 + n))
        session.commit()

    age(1)
    counter = StatementCounter(app.extensions["normhub.engine"])
    base = f"/c/{community.slug}/norms/{norm.slug}"
    pages = [
        (reader, "/queue"),
        (reader, "/"),
        (reader, f"/c/{community.slug}"),
        (reader, base),
        (steward, f"{base}/coverage"),
    ]
    clients = {}
    for who in (reader, steward):
        clients[who.id] = new_client(app, session)
        login(clients[who.id], who)

    def measure() -> dict[str, int]:
        counts = {}
        for who, url in pages:
            counter.count(clients[who.id], url)  # warm per-process caches
            counts[url] = counter.count(clients[who.id], url)
        return counts

    small = measure()
    age(2)
    age(3)
    large = measure()
    assert "Re-read asked" in clients[reader.id].get("/queue").get_data(as_text=True)
    assert {url: (small[url], large[url]) for url in small if small[url] != large[url]} == {}


def test_setting_a_norms_period_is_rate_limited(client, session, street):
    login(client, street["steward"])
    path = norm_path(street["norm"], "/reread")
    for months in range(1, 31):
        answer = client.post(path, data={"reread": "months", "months": str(months)})
        assert answer.status_code == 303
    refused = client.post(path, data={"reread": "none"})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert peek(session, lambda: session.scalar(select(Norm.reread_months))) == 30
