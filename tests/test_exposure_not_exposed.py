"""The not-yet-exposed list and nudges: never the author or the steward asking; who email misses."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from normhub.api import services as api_services
from normhub.digest.preferences import set_preference
from normhub.exposure.coverage import not_exposed_for_steward
from normhub.exposure.ledger import record_event
from normhub.exposure.nudges import nudge
from normhub.exposure.standing import standing
from normhub.mail.addresses import record_bounce, suppress
from normhub.norms.services import AssumptionInput, NormDraft, revise_norm
from tests.conftest import login


def listed(page: str) -> set[str]:
    """The names on the coverage page's not-yet-exposed list."""
    block = re.search(r'<ul class="unexposed">(.*?)</ul>', page, re.S)
    return set(re.findall(r"<li>([^<]+?) <span", block.group(1))) if block else set()


def coverage_page(client, norm) -> str:
    response = client.get(f"/c/{norm.community.slug}/norms/{norm.slug}/coverage")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def garden(factory, session):
    community = factory.community()
    people = {
        "ada": factory.member(community, name="Ada Author"),
        "sol": factory.member(community, role="steward", name="Sol Steward"),
        "tia": factory.member(community, role="steward", name="Tia Steward"),
        "mo": factory.member(community, name="Mo Never"),
        "lu": factory.member(community, name="Lu Reader"),
    }
    norm = factory.norm(community, people["ada"], title="Close the gate behind you")
    record_event(session, people["lu"], norm, 1, "read")
    session.commit()
    return community, norm, people


def test_neither_the_author_nor_the_steward_asking_is_on_the_list(client, session, garden):
    community, norm, people = garden
    login(client, people["sol"])
    page = coverage_page(client, norm)
    assert listed(page) == {"Owner", "Tia Steward", "Mo Never"}
    assert "3 members have not been exposed to the current version." in page
    assert "The norm's author, and you, are not on this list" in page

    # Tia rewrites it: writing version 2 is her exposure to it, at endorsed.
    draft_text = norm.current_version.body + "\n\nAnd latch it."
    revise_norm(
        session, norm, people["tia"], _draft(norm, draft_text), "Latch it too.", is_material=True
    )
    session.commit()
    assert standing(session, norm, people["tia"]).level == "endorsed"
    # Lu's reading is of the old text now; Ada has not seen Tia's text, but it is her norm.
    assert not standing(session, norm, people["ada"]).fully_exposed
    page = coverage_page(client, norm)
    assert listed(page) == {"Owner", "Mo Never", "Lu Reader"}

    client.post("/logout")
    login(client, people["tia"])
    assert listed(coverage_page(client, norm)) == {"Owner", "Sol Steward", "Mo Never", "Lu Reader"}


def test_nudges_skip_the_author_and_the_steward_sending_them(session, garden):
    _, norm, people = garden
    sent = {n.member_id for n in nudge(session, people["sol"], norm)}
    session.commit()
    assert people["ada"].id not in sent and people["sol"].id not in sent
    assert {people["tia"].id, people["mo"].id} <= sent and people["lu"].id not in sent
    # Even when named, the author is not nudged about her own norm.
    assert nudge(session, people["tia"], norm, members=[people["ada"], people["tia"]]) == []


def _draft(norm, body):
    version = norm.current_version
    return NormDraft(
        norm.title,
        norm.summary,
        body,
        [AssumptionInput(a.statement, a.explanation, a.key) for a in version.assumptions],
        norm.tag_names,
    )


# -- How many a nudge cannot reach --------------------------------------------------------


def test_the_page_and_the_api_say_how_many_get_no_digest(client, factory, session, garden):
    community, norm, people = garden
    other = factory.community()
    kim = factory.member(community, name="Kim Default")
    pat = factory.member(community, name="Pat Elsewhere")
    factory.member(other, pat)
    bounced = factory.member(community, name="Bo Bounced")
    quiet = factory.member(community, name="Quinn Suppressed")
    set_preference(session, people["mo"].id, community.id, "off")  # off here: unreachable
    set_preference(session, pat.id, other.id, "off")  # off elsewhere only: reachable
    set_preference(session, people["lu"].id, community.id, "off")  # exposed: not on the list
    set_preference(session, people["sol"].id, community.id, "off")  # the steward asking
    set_preference(session, kim.id, community.id, "daily")
    record_bounce(session, bounced.email, "550 no such mailbox")
    suppress(session, quiet.email, "complained")
    session.commit()

    login(client, people["sol"])
    page = coverage_page(client, norm)
    names = {"Owner", "Tia Steward", "Mo Never", "Kim Default", "Pat Elsewhere", "Bo Bounced"}
    assert listed(page) == names | {"Quinn Suppressed"}
    summary = " ".join(re.search(r'id="not-exposed-summary">(.*?)</p>', page, re.S)[1].split())
    assert summary == (
        "7 members have not been exposed to the current version; 3 of them get no digest "
        "email (turned off for this community, or mail to their address is refused), so a "
        "nudge reaches them only in the app: their notifications and reading queue."
    )

    _, secret = api_services.create_token(session, people["sol"], "tests")
    session.commit()
    url = f"/api/v1/communities/{community.slug}/norms/{norm.slug}/coverage"
    body = client.get(url, headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert (body["not_exposed"], body["not_exposed_digest_off"]) == (7, 3)
    # A plain member gets the aggregate counts, never these.
    _, plain = api_services.create_token(session, kim, "tests")
    session.commit()
    body = client.get(url, headers={"Authorization": f"Bearer {plain}"}).get_json()
    assert body["not_exposed"] is None and body["not_exposed_digest_off"] is None
    assert body["active_members"] == 10

    # Nobody on the list misses the digest: the sentence says nothing of it.
    set_preference(session, people["mo"].id, community.id, "weekly")
    for person in (bounced, quiet):
        record_event(session, person, norm, 1, "read")
    session.commit()
    page = coverage_page(client, norm)
    assert "5 members have not been exposed to the current version." in page
    assert "no digest email" not in page


def test_the_counts_take_the_same_queries_for_three_members_or_thirty(
    app, factory, session, garden
):
    community, norm, people = garden
    engine = app.extensions["normhub.engine"]

    def statements_for_list() -> tuple[int, object]:
        seen = []

        def listener(*args):
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", listener)
        try:
            session.expire_all()
            result = not_exposed_for_steward(session, norm, people["sol"], limit=5)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen), result

    few, result = statements_for_list()
    assert (result.total, result.unreachable) == (3, 0)
    for n in range(27):
        member = factory.member(community, name=f"Extra {n:02}")
        if n % 3 == 0:
            set_preference(session, member.id, community.id, "off")
    session.commit()
    many, result = statements_for_list()
    assert (result.total, result.unreachable, len(result.members)) == (30, 9, 5)
    # One more for the total once the list is cut short; none per member.
    assert many <= few + 1
