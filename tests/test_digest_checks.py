"""A check about you is a line in your next digest ("Checks about you", with a link to
the page of checks about you) when you take checks in the digest; someone checked from
a members-only community they are not in learns only that it happened. Which kind of
delivery leaves which check out is in tests/test_digest_notification_settings.py."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from normhub.communities.services import leave
from normhub.db import utcnow
from normhub.digest.builder import DigestBuilder, Member, preview_digest
from normhub.digest.content import subject_line
from normhub.digest.links import Links
from normhub.digest.preferences import set_preference
from normhub.digest.sending import DigestRun
from normhub.exposure.check import check_exposure, record_check
from normhub.exposure.told import OUTSIDER_LINE, short_date
from normhub.notifications.kinds import DIGEST
from normhub.notifications.services import set_delivery
from tests.conftest import login
from tests.smtp import parts


def build(app, session, users, period="weekly", now=None, **kwargs):
    builder = DigestBuilder(session, period, Links(app), now=now, **kwargs)
    return builder.build([Member(u.id, u.email, u.display_name) for u in users])


def check(session, checker, subject, norm):
    record_check(session, checker, subject, norm, check_exposure(session, norm, subject))
    session.commit()


@pytest.fixture
def world(factory, session):
    town = factory.community()
    town.name = "Riverside Commons"
    felix = factory.member(town, name="Felix Moreau")
    mia = factory.member(town, name="Mia Member")
    norm = factory.norm(town, felix, title="Ask before forwarding")
    club = factory.community(visibility="members", join_policy="invite")
    club.name = "The Quiet Club"
    insider = factory.member(club, name="Ines Insider")
    secret = factory.norm(club, insider, title="Never quote the newsletter")
    # Checks reach members by email at once unless they ask for them in the digest.
    set_delivery(session, mia, "check", DIGEST)
    session.commit()
    return town, felix, mia, norm, club, insider, secret


def test_a_check_in_the_window_is_a_line_in_the_digest(app, session, world):
    town, felix, mia, norm, *_ = world
    check(session, felix, mia, norm)
    [notice] = build(app, session, [mia])[mia.id].checks
    assert notice.shown and notice.checker_name == "Felix Moreau"
    assert notice.norm_title == "Ask before forwarding"
    assert notice.norm_url == f"http://normhub.test/c/{town.slug}/norms/{norm.slug}"
    assert notice.told == "You haven't opened it yet."
    assert notice.when == short_date(utcnow())
    # The next week's digest, sent after it, does not tell it again.
    later = build(app, session, [mia], now=utcnow() + timedelta(days=8))[mia.id]
    assert later.checks == []


def test_checks_alone_make_a_digest_worth_sending(app, session, factory, world):
    town, felix, mia, norm, *_ = world
    now = utcnow() + timedelta(days=8)  # the norms opened last week are old news by then
    assert build(app, session, [mia], now=now)[mia.id].is_empty
    check(session, felix, mia, norm)
    digest = build(app, session, [mia], now=now + timedelta(days=1))[mia.id]
    assert digest.checks == [] and digest.is_empty  # made before that digest's window
    digest = build(app, session, [mia], now=utcnow() + timedelta(minutes=1))[mia.id]
    assert digest.has_news and len(digest.checks) == 1
    only_checks = build(app, session, [mia], now=utcnow() + timedelta(days=6))[mia.id]
    only_checks.entries = []
    assert (
        subject_line(only_checks)
        == "Your NormHub digest from Riverside Commons — someone checked what you have read"
    )


def test_each_check_goes_in_one_digest(app, session, factory, world):
    town, felix, mia, norm, club, insider, secret = world
    other = factory.community()
    factory.member(other, mia)
    set_preference(session, mia.id, other.id, "daily")  # weekly for the town, daily for the other
    session.commit()
    check(session, felix, mia, norm)  # the town's: in her weekly digest
    check(session, insider, mia, secret)  # from outside: in her daily digest only
    weekly = build(app, session, [mia], "weekly")[mia.id].checks
    daily = build(app, session, [mia], "daily")[mia.id].checks
    assert [(n.shown, n.norm_title) for n in weekly] == [(True, "Ask before forwarding")]
    assert [(n.shown, n.norm_title) for n in daily] == [(False, "")]
    # A --community run of the town carries the town's check, never the outside one.
    scoped = build(app, session, [mia], "weekly", community_ids={town.id}, scope=town.id)
    assert [n.norm_title for n in scoped[mia.id].checks] == ["Ask before forwarding"]


def test_a_steward_preview_never_shows_checks_about_the_member(app, session, factory, world):
    town, felix, mia, norm, *_ = world
    steward = factory.member(town, role="steward", name="Stella Steward")
    check(session, felix, mia, norm)
    own = preview_digest(session, Links(app), mia, "weekly")
    assert [n.checker_name for n in own.checks] == ["Felix Moreau"]
    theirs = preview_digest(
        session, Links(app), mia, "weekly", community_ids={town.id}, personal=False
    )
    assert theirs.checks == []
    client = app.test_client()
    login(client, steward)
    page = client.get(f"/c/{town.slug}/members/{mia.id}/digest-preview").get_data(as_text=True)
    assert "Checks about you" not in page and "Felix Moreau checked" not in page


def test_a_former_member_is_an_outsider_too(app, session, factory, world):
    town, felix, mia, norm, club, insider, secret = world
    fritz = factory.member(club, name="Fritz Former")
    factory.member(town, fritz)
    leave(session, club, fritz)
    session.commit()
    check(session, insider, fritz, secret)
    [notice] = build(app, session, [fritz])[fritz.id].checks
    assert not notice.shown and notice.checker_name == "" and notice.norm_url == ""


def run_digests(app, session, transport, period="weekly"):
    transport.open()
    try:
        return DigestRun(app, session, period, transport).run()
    finally:
        transport.close()


def test_the_digest_email_tells_checks_and_hides_an_outsiders(
    app, session, factory, smtp_server, client, world
):
    town, felix, mia, norm, club, insider, secret = world
    olga = factory.member(town, name="Olga Outsider")  # in the town, not in the club
    check(session, felix, mia, norm)
    check(session, insider, olga, secret)
    report = run_digests(app, session, smtp_server.transport())
    assert report.failed == 0

    [mias] = smtp_server.handler.to(mia.email)
    text = parts(mias.message)["text/plain"].replace("\r\n", "\n")
    html = parts(mias.message)["text/html"]
    today = short_date(utcnow())
    assert "Checks about you\n----------------" in text
    assert (
        f'* Felix Moreau checked whether you had read "Ask before forwarding" on {today} '
        "(Riverside Commons).\n  They were told: You haven't opened it yet." in text
    )
    assert "<strong>Felix Moreau</strong> checked whether you had read" in html
    about_me = "http://normhub.test/exposure/about-me"
    assert f"See every check about you, and answer them: {about_me}" in text
    assert f'href="{about_me}"' in html
    login(client, mia)
    page = client.get(urlsplit(about_me).path)
    assert page.status_code == 200 and "Felix Moreau" in page.get_data(as_text=True)

    [olgas] = smtp_server.handler.to(olga.email)
    # The message decoded (quoted-printable may wrap a word), with its headers.
    olga_parts = parts(olgas.message)
    seen = "".join(f"{k}: {v}\n" for k, v in olgas.message.items()) + "".join(olga_parts.values())
    assert f"* {OUTSIDER_LINE}, on {today}.\r\n" in olga_parts["text/plain"]
    assert f"{OUTSIDER_LINE}, on {today}." in " ".join(olga_parts["text/html"].split())
    for hidden in (
        "The Quiet Club",
        club.slug,
        "Never quote the newsletter",
        secret.slug,
        "Ines",
        "They were told",
    ):
        assert hidden not in seen, hidden
    assert about_me in seen
