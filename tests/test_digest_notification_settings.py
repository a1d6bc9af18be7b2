"""The digest follows each member's notification settings, kind by kind.

A kind the member takes "in my digest" is in it; a kind taken "by email at once" is
left out where its notice went by email already, and only there; a kind turned off
is left out. The notice itself reaches the app whatever the setting (a nudge always
does). Causes go through the real services, digests are built as the send command
builds them, and queued notification emails are read back to show what went at once.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from normhub.digest.builder import DigestBuilder, Member, preview_digest
from normhub.digest.content import subject_line
from normhub.digest.links import Links
from normhub.digest.sending import DigestRun
from normhub.discussion.services import post_comment
from normhub.exposure.check import check_exposure, record_check
from normhub.exposure.models import Nudge
from normhub.exposure.nudges import nudge
from normhub.mail.queue import QueuedEmail
from normhub.mail.transports import OutboxTransport
from normhub.norms.services import revise_norm
from normhub.notifications.checks import tell_the_people_checked
from normhub.notifications.kinds import DIGEST, EMAIL, KINDS, MUTED, NORMAL, OFF, WATCHING
from normhub.notifications.models import Notification
from normhub.notifications.services import mark_read, set_delivery, set_watch_level
from normhub.responses.services import record_response
from tests.conftest import login


@pytest.fixture
def world(factory, session):
    """A public town where Ann wrote a norm, Ben reads and Cat stewards."""
    town = factory.community()
    town.name = "Riverside Commons"
    ann = factory.member(town, name="Ann Author")
    ben = factory.member(town, name="Ben Reader")
    cat = factory.member(town, name="Cat Steward", role="steward")
    norm = factory.norm(town, ann, title="Cite the base")
    session.commit()
    return town, ann, ben, cat, norm


def build(app, session, user, period="weekly", **kwargs):
    builder = DigestBuilder(session, period, Links(app), **kwargs)
    digest = builder.build([Member(user.id, user.email, user.display_name)])[user.id]
    return builder.finish(digest)


def titles(digest, section: str) -> list[str]:
    return [e.norm.title for e in digest.entries if e.section == section]


def emailed(session, user, kind: str) -> int:
    """How many notification emails of ``kind`` were queued for ``user``."""
    session.commit()
    return len(
        session.scalars(
            select(QueuedEmail).where(
                QueuedEmail.recipient == user.email, QueuedEmail.kind == f"notice-{kind}"
            )
        ).all()
    )


def in_app(session, user, kind: str) -> int:
    session.commit()
    return len(
        session.scalars(
            select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
        ).all()
    )


def choose(session, user, kind: str, delivery: str) -> None:
    set_delivery(session, user, kind, delivery)
    session.commit()


def watch(session, user, community, level: str) -> None:
    set_watch_level(session, user, community, level)
    session.commit()


@pytest.mark.parametrize(
    ("delivery", "in_digest", "at_once"), [(DIGEST, True, 0), (EMAIL, False, 1), (OFF, False, 0)]
)
def test_a_reply_is_in_the_digest_only_when_replies_wait_for_it(
    app, session, world, delivery, in_digest, at_once
):
    town, ann, ben, cat, norm = world
    choose(session, ben, "reply", delivery)
    first = post_comment(session, norm, ben, "Which base?")
    post_comment(session, norm, cat, "The survey's.", parent=first)
    session.commit()
    digest = build(app, session, ben)
    assert [r.excerpt for r in digest.replies] == (["The survey's."] if in_digest else [])
    assert emailed(session, ben, "reply") == at_once
    assert in_app(session, ben, "reply") == 1  # the bell has it whatever the setting


@pytest.mark.parametrize(("delivery", "at_once"), [(DIGEST, 0), (EMAIL, 1), (OFF, 0)])
def test_a_nudge_reaches_the_app_always_and_the_digest_only_when_nudges_wait_for_it(
    app, session, world, delivery, at_once
):
    town, ann, ben, cat, norm = world
    choose(session, ben, "nudge", delivery)
    (queued,) = nudge(session, cat, norm, [ben])
    session.commit()
    digest = build(app, session, ben)
    assert titles(digest, "nudged") == (["Cite the base"] if delivery == DIGEST else [])
    assert emailed(session, ben, "nudge") == at_once
    assert in_app(session, ben, "nudge") == 1
    # Shown or not, the digest settles the nudge: a steward may nudge again later.
    assert digest.nudge_ids == [queued.id]


def test_a_nudge_left_out_is_marked_delivered_when_the_digest_goes(app, session, world):
    town, ann, ben, cat, norm = world
    choose(session, ben, "nudge", OFF)
    (queued,) = nudge(session, cat, norm, [ben])
    session.commit()
    transport = OutboxTransport(app.config["OUTBOX_DIR"])
    transport.open()
    try:
        report = DigestRun(app, session, "weekly", transport).run()
    finally:
        transport.close()
    assert report.failed == 0
    session.expire_all()
    assert session.get(Nudge, queued.id).delivered_at is not None
    assert nudge(session, cat, norm, [ben])  # so the steward can ask again


def revise_materially(session, factory, norm, editor):
    draft = factory.draft(title=norm.title, body="## Why\n\nNow the base and the year.")
    revise_norm(session, norm, editor, draft, "Name the year too", True)
    session.commit()


@pytest.mark.parametrize(
    ("delivery", "level", "in_digest", "at_once"),
    [
        (DIGEST, NORMAL, True, 0),
        (EMAIL, NORMAL, False, 1),
        # Muted: no notice of someone else's revision was made, so no email either.
        (EMAIL, MUTED, True, 0),
        (OFF, NORMAL, False, 0),
    ],
)
def test_a_revision_since_my_answer_follows_the_setting_and_the_watch_level(
    app, session, factory, world, delivery, level, in_digest, at_once
):
    town, ann, ben, cat, norm = world
    record_response(session, norm, ben, "yes", "endorse")
    choose(session, ben, "revised", delivery)
    watch(session, ben, town, level)
    revise_materially(session, factory, norm, ann)
    digest = build(app, session, ben)
    assert titles(digest, "revised") == (["Cite the base"] if in_digest else [])
    assert emailed(session, ben, "revised") == at_once


@pytest.mark.parametrize(
    ("delivery", "level", "in_digest", "at_once"),
    [
        (DIGEST, WATCHING, True, 0),
        (EMAIL, WATCHING, False, 1),
        # Not watching: no notice, no email; the digest is the only word of it.
        (EMAIL, NORMAL, True, 0),
        (OFF, NORMAL, False, 0),
    ],
)
def test_a_norm_opening_follows_the_setting_and_the_watch_level(
    app, session, factory, world, delivery, level, in_digest, at_once
):
    town, ann, ben, cat, norm = world
    choose(session, ben, "opened", delivery)
    watch(session, ben, town, level)
    factory.norm(town, ann, title="Credit the photographer")
    digest = build(app, session, ben)
    expected = ["Cite the base", "Credit the photographer"] if in_digest else []
    assert sorted(titles(digest, "opened")) == expected
    assert emailed(session, ben, "opened") == at_once


def test_one_digest_follows_each_communitys_watch_level(app, session, factory, world):
    """Norms opening where Ben watches came by email; elsewhere only the digest tells."""
    town, ann, ben, cat, norm = world
    garden = factory.community()
    factory.member(garden, ben)
    choose(session, ben, "opened", EMAIL)
    watch(session, ben, town, WATCHING)
    factory.norm(town, ann, title="Credit the photographer")
    factory.norm(garden, title="Water before nine")
    # (The world's own norm opened before Ben chose; the digest reads the settings as
    # they stand, so it is left out of the town's part too: not looked at here.)
    opened = [t for t in titles(build(app, session, ben), "opened") if t != "Cite the base"]
    assert opened == ["Water before nine"]
    assert emailed(session, ben, "opened") == 1


@pytest.mark.parametrize(
    ("delivery", "shown"),
    [
        # Checks go by email at once by default: the town's check went by email; the
        # club's made no notice (Ben is not in the club), so only the digest tells it.
        (EMAIL, [False]),
        (DIGEST, [True, False]),
        (OFF, []),
    ],
)
def test_checks_about_me_follow_the_setting(app, session, factory, world, delivery, shown):
    town, ann, ben, cat, norm = world
    club = factory.community(visibility="members", join_policy="invite")
    insider = factory.member(club, name="Ines Insider")
    secret = factory.norm(club, insider, title="Never quote the newsletter")
    choose(session, ben, "check", delivery)
    for checker, checked in ((cat, norm), (insider, secret)):
        record_check(session, checker, ben, checked, check_exposure(session, checked, ben))
        session.commit()
    tell_the_people_checked(session)  # the worker's job, a minute after the checks
    session.commit()
    digest = build(app, session, ben)
    assert [c.shown for c in digest.checks] == shown
    assert emailed(session, ben, "check") == (1 if delivery == EMAIL else 0)


def test_unread_notices_of_kinds_without_a_section_wait_in_the_digest(app, session, factory, world):
    town, ann, ben, cat, norm = world
    choose(session, ben, "mention", DIGEST)
    comment = post_comment(session, norm, cat, f"@{ben.handle}, which base did you mean?")
    post_comment(session, norm, ann, f"@{cat.handle} see the survey.")  # Cat: email at once
    record_response(session, norm, ben, "yes", "endorse")
    record_response(session, norm, cat, "yes", "endorse")
    session.commit()

    (mention,) = build(app, session, ben).notices
    assert mention.summary == "Cat Steward mentioned you in a comment on “Cite the base”"
    assert mention.url == f"http://normhub.test/c/{town.slug}/comments/{comment.id}"
    assert mention.community.name == "Riverside Commons"
    assert emailed(session, ben, "mention") == 0
    assert build(app, session, cat).notices == []  # emailed at once: not repeated
    assert emailed(session, cat, "mention") == 1

    # News of a norm one wrote waits for the digest by default, grouped as in the app.
    author = build(app, session, ann)
    assert [n.summary for n in author.notices] == ["2 responses to “Cite the base”"]
    assert author.entries == [] and author.has_news
    assert subject_line(author) == (
        "Your NormHub digest from Riverside Commons — 1 unread notification"
    )
    factory.norm(town, ann, title="Old rule", status="retired")  # a steward retires it
    assert "“Old rule”, which you wrote, is now retired" in [
        n.summary for n in build(app, session, ann).notices
    ]

    # Read in the app: no longer waiting. And a steward's preview never shows them.
    mark_read(session, ben, mention.id)
    session.commit()
    assert build(app, session, ben).notices == []
    theirs = preview_digest(session, Links(app), ann, "weekly", personal=False)
    assert theirs.notices == []


def test_the_footer_says_what_came_at_once_is_not_repeated(app, session, factory, client, world):
    town, ann, ben, cat, norm = world
    said = "What you chose to get by email at once is not repeated here."
    by_default = build(app, session, ben)
    for kind in KINDS:
        choose(session, cat, kind, DIGEST)
    all_in_digest = build(app, session, cat)
    login(client, ben)
    own = client.get("/settings/digest/preview").get_data(as_text=True)
    assert said in own
    assert by_default.emails_at_once and not all_in_digest.emails_at_once
    login(client, cat)
    theirs = client.get("/settings/digest/preview").get_data(as_text=True)
    assert said not in theirs
    settings_url = "http://normhub.test/settings/notifications"
    assert by_default.notification_settings_url == settings_url
    assert f'href="{settings_url}"' in theirs
    assert client.get("/settings/notifications").status_code == 200
    # The digest's own settings page points there too.
    assert 'href="/settings/notifications"' in client.get("/settings/digest").get_data(as_text=True)
