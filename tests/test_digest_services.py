"""What goes into a member's digest, built without SMTP or HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import event

from normhub.db import utcnow
from normhub.digest.builder import DigestBuilder, Member, preview_digest
from normhub.digest.content import subject_line
from normhub.digest.links import Links
from normhub.digest.models import DigestSend
from normhub.digest.periods import period_key
from normhub.digest.preferences import (
    make_unsubscribe_token,
    read_unsubscribe_token,
    set_preference,
)
from normhub.discussion.services import hide_comment, post_comment
from normhub.exposure import nudges
from normhub.exposure.check import check_exposure, record_check
from normhub.exposure.ledger import record_event
from normhub.norms import path_cache
from normhub.responses.services import record_response


def build(app, session, users, period="weekly", now=None, community_ids=None):
    builder = DigestBuilder(session, period, Links(app), now=now, community_ids=community_ids)
    return builder.build([Member(u.id, u.email, u.display_name) for u in users])


def titles(digest) -> dict[str, list[str]]:
    return {s.key: [e.norm.title for e in s.entries] for s in digest.sections}


def test_period_keys():
    monday = datetime(2026, 11, 23, 7, 0)
    assert period_key("daily", monday) == "2026-11-23"
    assert period_key("weekly", monday) == "2026-W48"
    assert period_key("weekly", datetime(2027, 1, 1)) == "2026-W53"


def test_subject_counts_norms_that_need_you(app, session, factory):
    town = factory.community()
    reader = factory.member(town)
    factory.norm(town, title="First")
    assert subject_line(build(app, session, [reader])[reader.id]) == (
        f"Your NormHub digest from {town.name} — 1 norm needs you"
    )
    factory.norm(town, title="Second")
    factory.norm(town, title="Third")
    assert subject_line(build(app, session, [reader])[reader.id]) == (
        f"Your NormHub digest from {town.name} — 3 norms need you"
    )


def test_unsubscribe_token_binds_user_and_communities(app):
    token = make_unsubscribe_token(app.config["SECRET_KEY"], 7, [3, 2, 3])
    request = read_unsubscribe_token(app.config["SECRET_KEY"], token)
    assert request.user_id == 7 and request.community_ids == (2, 3)


def test_new_norms_except_own_and_only_matching_preferences(app, session, factory):
    town, club = factory.community(), factory.community()
    reader = factory.member(town, name="Reader")
    factory.member(club, reader)
    author = factory.member(town, name="Author")
    factory.norm(town, author, title="Town norm")
    factory.norm(club, title="Club norm")
    factory.norm(town, author, title="Still a draft", status="draft")
    set_preference(session, reader.id, club.id, "daily")
    session.commit()

    weekly = build(app, session, [reader, author])
    assert titles(weekly[reader.id]) == {"opened": ["Town norm"]}
    assert weekly[author.id].is_empty and not weekly[author.id].has_news  # own norm
    daily = build(app, session, [reader], period="daily")
    assert titles(daily[reader.id]) == {"opened": ["Club norm"]}
    set_preference(session, reader.id, town.id, "off")
    session.commit()
    assert build(app, session, [reader])[reader.id].is_empty


def test_a_second_reason_in_one_digest_is_not_in_anothers(app, session, factory):
    """Members of a batch share an entry a norm has for one reason alone; the one whose
    digest adds a reason changes their own copy, never the others'."""
    town = factory.community()
    nudged, other = factory.member(town, name="Nudged"), factory.member(town, name="Other")
    steward = factory.member(town, name="Steward", role="steward")
    norm = factory.norm(town, title="Quiet hours")
    nudges.nudge(session, steward, norm, [nudged])
    session.commit()

    digests = build(app, session, [other, nudged, factory.member(town)])
    (mine,) = digests[nudged.id].entries
    (theirs,) = digests[other.id].entries
    assert mine.reasons == ["nudged", "opened"] and mine.nudged_by == ["Steward"]
    assert mine.section == "nudged"
    assert theirs.reasons == ["opened"] and theirs.nudged_by == []
    assert theirs.section == "opened"


def test_a_shared_entry_given_a_second_reason_is_copied_first(app, session, factory):
    """The path's first step is the same entry for two newcomers; the one for whom the
    norm also came into force in their window gets a copy with both reasons."""
    town = factory.community()
    author = factory.member(town, name="Author")
    fresh, settled = factory.member(town, name="Fresh"), factory.member(town, name="Settled")
    factory.norm(town, author, title="Quiet hours", status="in_force")
    now = utcnow() + timedelta(days=1)
    # Settled's first digest went out after the norm came into force: old news to them.
    session.add(
        DigestSend(
            user_id=settled.id,
            period_kind="weekly",
            period_key=period_key("weekly", now),
            status="sent",
            window_start=now - timedelta(days=7),
            window_end=now - timedelta(hours=1),
            sent_at=now - timedelta(hours=1),
        )
    )
    session.commit()

    digests = build(app, session, [fresh, settled], now=now)
    (mine,) = digests[fresh.id].entries
    (theirs,) = digests[settled.id].entries
    assert mine is not theirs
    assert mine.reasons == ["start_here", "in_force"] and mine.section == "in_force"
    assert theirs.reasons == ["start_here"] and theirs.section == "start_here"
    assert mine.path_position == theirs.path_position == 1


def test_members_who_left_get_nothing_from_that_community(app, session, factory):
    from normhub.communities.services import leave

    town = factory.community()
    reader = factory.member(town)
    factory.norm(town, title="After I left")
    leave(session, town, reader)
    session.commit()
    assert build(app, session, [reader])[reader.id].is_empty


def test_material_revision_after_response_is_reported_with_changes(app, session, factory):
    from normhub.norms.services import revise_norm

    town = factory.community()
    reader = factory.member(town)
    norm = factory.norm(town, title="Share the car")
    record_response(session, norm, reader, "yes", "endorse")
    session.commit()
    revise_norm(
        session,
        norm,
        norm.author,
        factory.draft(title="Share the car", body="Typo."),
        "Typo",
        False,
    )
    session.commit()
    digest = build(app, session, [reader])[reader.id]
    assert "revised" not in titles(digest)  # a minor change does not make a response stale
    revise_norm(
        session,
        norm,
        norm.author,
        factory.draft(title="Share the car", body="Weekends too."),
        "Now covers weekends",
        True,
    )
    session.commit()
    digest = build(app, session, [reader])[reader.id]
    (entry,) = [e for e in digest.entries if e.section == "revised"]
    assert entry.responded_version == 1
    assert [(c.number, c.change_summary, c.is_material) for c in entry.changes] == [
        (2, "Typo", False),
        (3, "Now covers weekends", True),
    ]
    assert entry.reasons == ["revised", "opened"]
    assert [(d.norm_id, d.version_number, d.material_base) for d in digest.deliveries()] == [
        (norm.id, 3, 3)
    ]


def test_norm_close_to_gate_for_those_who_have_not_read_it(app, session, factory):
    town = factory.community(coverage_threshold_pct=50, coverage_min_responses=1)
    author = factory.member(town)
    norm = factory.norm(town, author, title="Close to the gate")
    understood = [factory.member(town)]
    for user in understood:
        record_response(session, norm, user, "yes", "endorse")
        record_event(session, user, norm, 1, "responded")
    reader, unread, _bystander = factory.member(town), factory.member(town), factory.member(town)
    record_event(session, reader, norm, 1, "read")
    session.commit()
    # 6 active members (owner, author, 1 understood, reader, unread, bystander):
    # writing the norm counts as the author's endorsement, so 2 understood: 33%, gate 50%
    digests = build(app, session, [reader, unread], now=utcnow() + timedelta(days=30))
    assert titles(digests[unread.id]) == {"approaching": ["Close to the gate"]}
    assert digests[unread.id].entries[0].coverage_pct == 33
    assert digests[unread.id].has_news
    assert digests[reader.id].is_empty
    # Once a digest delivered it, it is a reminder: no digest for it alone.
    record_event(session, unread, norm, 1, "delivered")
    session.commit()
    later = build(app, session, [unread], now=utcnow() + timedelta(days=30))[unread.id]
    assert titles(later) == {"approaching": ["Close to the gate"]}
    assert not later.has_news


def test_close_to_the_gate_holds_at_the_margin_and_not_below(session, factory):
    """The database's choice of norms close to the gate and the coverage that decides
    agree at the edge: 20% understood is within 25 points of a 45% gate, 16% is not."""
    from normhub.digest.gate import APPROACHING_MARGIN_PCT, approaching_gate

    assert APPROACHING_MARGIN_PCT == 25
    town = factory.community(coverage_threshold_pct=45, coverage_min_responses=5)
    author = factory.member(town)
    norm = factory.norm(town, author, title="At the edge")  # the author's endorsement
    for _ in range(3):
        factory.member(town)
    session.commit()  # 5 active members (the owner too), 1 understood: 20%
    assert {norm_id: pct for norm_id, (_, pct) in approaching_gate(session).items()} == {
        norm.id: 20
    }
    factory.member(town)
    session.commit()  # 6 members: 16%
    assert approaching_gate(session, {town.id}) == {}


def test_window_starts_at_the_last_sent_digest(app, session, factory):
    town = factory.community()
    reader = factory.member(town)
    factory.norm(town, title="Old news")
    now = utcnow()
    session.add(
        DigestSend(
            user_id=reader.id,
            period_kind="weekly",
            period_key=period_key("weekly", now),
            status="sent",
            window_start=now - timedelta(days=7),
            window_end=now,
        )
    )
    session.commit()
    next_week = build(app, session, [reader], now=now + timedelta(days=7))[reader.id]
    assert next_week.window_start == now and next_week.is_empty
    # the daily digest has its own window
    assert titles(build(app, session, [reader], period="daily")[reader.id]) == {}
    set_preference(session, reader.id, town.id, "daily")
    session.commit()
    assert titles(build(app, session, [reader], period="daily")[reader.id]) == {
        "opened": ["Old news"]
    }


def test_replies_to_my_comments_but_not_hidden_or_my_own(app, session, factory):
    town = factory.community()
    me, other = factory.member(town, name="Me"), factory.member(town, name="Other")
    steward = factory.member(town, role="steward")
    norm = factory.norm(town)
    mine = post_comment(session, norm, me, "A question.")
    post_comment(session, norm, me, "Answering myself.", parent=mine)
    post_comment(session, norm, other, "An answer.", parent=mine)
    rude = post_comment(session, norm, other, "A rude answer.", parent=mine)
    hide_comment(session, rude, steward)
    session.commit()
    digest = build(app, session, [me])[me.id]
    assert [(r.author_name, r.excerpt) for r in digest.replies] == [("Other", "An answer.")]
    assert digest.replies[0].url.endswith(f"/comments/{digest.replies[0].id}")


def test_nudges_only_from_matching_communities(app, session, factory):
    town = factory.community()
    member = factory.member(town)
    steward = factory.member(town, role="steward", name="Stew")
    norm = factory.norm(town, title="Please read")
    (nudge,) = nudges.nudge(session, steward, norm, [member])
    session.commit()
    digest = build(app, session, [member], now=utcnow() + timedelta(days=30))[member.id]
    assert titles(digest) == {"nudged": ["Please read"]} and digest.nudge_ids == [nudge.id]
    assert digest.entries[0].nudged_by == ["Stew"]
    set_preference(session, member.id, town.id, "daily")
    session.commit()
    assert build(app, session, [member])[member.id].nudge_ids == []


def test_steward_preview_limits_communities(app, session, factory):
    town, club = factory.community(), factory.community()
    member = factory.member(town)
    factory.member(club, member)
    factory.norm(town, title="Town")
    factory.norm(club, title="Club")
    digest = preview_digest(session, Links(app), member, "weekly", community_ids={town.id})
    assert titles(digest) == {"opened": ["Town"]}


def test_queries_per_batch_do_not_grow_with_members(app, session, factory):
    """Constant number of queries per batch: 3 members or 12 cost the same, with
    notification settings, watch levels and unread notices to read for each."""
    from normhub.communities.services import get_visible_community
    from normhub.discussion.services import post_comment as comment
    from normhub.notifications.services import set_delivery, set_watch_level

    town, club = factory.community(), factory.community()
    steward = factory.member(town, role="steward")
    members = []
    for _ in range(12):
        user = factory.member(town)
        factory.member(club, user)
        members.append(user)
        set_delivery(session, user, "check", "digest")
        set_delivery(session, user, "mention", "digest")
        set_watch_level(session, user, get_visible_community(session, club.slug, user), "muted")
    norms = [factory.norm(town, title=f"Norm {n}") for n in range(3)]
    factory.norm(club, title="Club norm")
    for user in members:
        record_response(session, norms[0], user, "yes", "endorse")
        parent = comment(session, norms[1], user, "Mine")
        comment(session, norms[1], steward, f"Reply to @{user.handle}", parent=parent)
        comment(session, norms[2], steward, f"Over to @{user.handle}")
    nudges.nudge(session, steward, norms[2], members)
    for user in members:  # checks about each member, in their digest's community
        record_check(session, steward, user, norms[2], check_exposure(session, norms[2], user))
    session.commit()
    from normhub.norms.services import revise_norm

    revise_norm(
        session, norms[0], norms[0].author, factory.draft(title="Norm 0", body="New."), "New", True
    )
    session.commit()

    engine = session.get_bind()
    counts = []
    for batch in (members[:3], members):
        builder = DigestBuilder(session, "weekly", Links(app))
        builder.approaching(set(builder.communities()))  # per run, not per batch
        # Both batches build the communities' paths: a path kept from the first would
        # spare the second its queries.
        app.extensions[path_cache.EXTENSION].clear()
        statements: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany, seen=statements):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            digests = builder.build([Member(u.id, u.email, u.display_name) for u in batch])
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert all(d.has_news and d.replies and d.nudge_ids for d in digests.values())
        assert all(len(d.checks) == 1 for d in digests.values())
        assert all(len(d.notices) == 1 for d in digests.values())  # the mention on norm 2
        assert all(any(e.section == "revised" for e in d.entries) for d in digests.values())
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_bulk_delivered_matches_the_exposure_service(app, session, factory):
    """ledger.record_delivered must leave the same summary as record_event."""
    from sqlalchemy import select

    from normhub.exposure.bulk import Delivery, record_delivered
    from normhub.exposure.models import ExposureEvent, ExposureSummary
    from normhub.norms.services import revise_norm

    town = factory.community()
    norm = factory.norm(town, title="Shared history")
    at = utcnow()

    def history(user, steps):
        for offset, (kind, number) in enumerate(steps):
            record_event(session, user, norm, number, kind, at=at - timedelta(hours=9 - offset))

    def compare(steps):
        via_service, via_bulk = factory.member(town), factory.member(town)
        history(via_service, steps)
        history(via_bulk, steps)
        session.commit()
        number, base = norm.current_version_number, norm.last_material_version_number
        record_event(session, via_service, norm, number, "delivered", at=at)
        record_delivered(session, via_bulk.id, [Delivery(norm.id, number, base)], at)
        session.commit()
        session.expire_all()
        columns = [c.name for c in ExposureSummary.__table__.columns if c.name != "user_id"]

        def state(user):
            summary = session.get(ExposureSummary, (user.id, norm.id))
            events = session.execute(
                select(ExposureEvent.kind, ExposureEvent.version_number, ExposureEvent.level)
                .where(ExposureEvent.user_id == user.id)
                .order_by(ExposureEvent.id)
            ).all()
            return {c: getattr(summary, c) for c in columns}, events

        assert state(via_service) == state(via_bulk), steps

    compare([])
    compare([("opened", 1)])
    compare([("read", 1)])
    compare([("delivered", 1), ("opened", 1)])
    revise_norm(
        session, norm, norm.author, factory.draft(title="Shared history", body="Minor."), "m", False
    )
    session.commit()
    compare([("read", 1)])  # minor revision: same family, reading stays
    revise_norm(
        session, norm, norm.author, factory.draft(title="Shared history", body="Big."), "M", True
    )
    session.commit()
    compare([("read", 2)])  # material revision: a new family starts at "delivered"
    compare([("read", 3), ("delivered", 2)])


def test_a_reply_names_the_norm_it_is_on_not_its_own_id(app, session, factory):
    town = factory.community()
    me, other = factory.member(town, name="Me"), factory.member(town, name="Other")
    norms = [factory.norm(town, title=f"Norm {n}") for n in range(3)]
    for _ in range(4):
        mine = post_comment(session, norms[0], me, "A question.")
    reply = post_comment(session, norms[0], other, "An answer.", parent=mine)
    session.commit()
    assert reply.id not in {n.id for n in norms}
    digest = build(app, session, [me])[me.id]
    (shown,) = digest.replies
    assert (shown.id, shown.norm.id, shown.norm.title) == (reply.id, norms[0].id, "Norm 0")
    assert digest.norm_ids == {n.id for n in norms}
