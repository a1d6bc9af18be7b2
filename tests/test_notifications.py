"""Notifications: who is told what, who must not be, grouping, watch levels, reading them,
and which kinds go out by email at once.

Causes go through the real services (and pages, where the page is the cause);
notices and queued mail are read back as rows.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import event, select

from normhub.communities.services import leave
from normhub.digest.preferences import set_preference
from normhub.discussion.services import post_comment
from normhub.exposure.nudges import nudge
from normhub.mail.queue import QueuedEmail
from normhub.norms.services import AssumptionInput, change_status, revise_norm
from normhub.notifications import services
from normhub.notifications.checks import tell_the_people_checked
from normhub.notifications.models import Notification
from normhub.responses.services import record_response
from tests.conftest import login
from tests.test_api_exposure import token_for


@pytest.fixture
def town(factory, session):
    """A members-only community: Ann wrote a norm in force; Ben and Cat are members."""
    owner = factory.user("Olga Owner")
    community = factory.community(owner, visibility="members")
    ann = factory.member(community, name="Ann Author")
    ben = factory.member(community, name="Ben Reader")
    cat = factory.member(community, name="Cat Steward", role="steward")
    norm = factory.norm(community, ann, status="open", title="Cite the base")
    outsider = factory.user("Otto Outsider")
    session.commit()
    return {
        "community": community,
        "owner": owner,
        "ann": ann,
        "ben": ben,
        "cat": cat,
        "norm": norm,
        "outsider": outsider,
    }


def notices(session, user, kind=None) -> list[Notification]:
    session.rollback()
    query = select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(
        session.scalars(query.order_by(Notification.id).execution_options(populate_existing=True))
    )


def mails(session, kind: str) -> list[QueuedEmail]:
    session.rollback()
    return list(session.scalars(select(QueuedEmail).where(QueuedEmail.kind == kind)))


def revise(session, factory, norm, editor, summary: str, material: bool = True):
    version = norm.current_version
    draft = factory.draft(
        title=norm.title,
        body=version.body + f"\n\n{summary}",
        assumptions=[
            AssumptionInput(a.statement, a.explanation, a.key) for a in version.assumptions
        ],
    )
    revise_norm(session, norm, editor, draft, summary, material)
    session.commit()


# -- Replies and mentions ----------------------------------------------------------------


def test_a_reply_tells_the_comment_author_and_no_one_else(session, town):
    first = post_comment(session, town["norm"], town["ben"], "Which base?")
    reply = post_comment(session, town["norm"], town["cat"], "The survey's.", parent=first)
    session.commit()
    (notice,) = notices(session, town["ben"], "reply")
    assert notice.summary == "Cat Steward replied to your comment on “Cite the base”"
    # The comment's lasting address, which opens whichever page of the thread shows it.
    assert notice.target == f"/c/{town['community'].slug}/comments/{reply.id}"
    assert notice.actor_id == town["cat"].id
    assert notices(session, town["cat"]) == []
    assert notices(session, town["ann"], "reply") == []
    # Replies wait for the digest by default: no email now.
    assert mails(session, "notice-reply") == []


def test_replying_to_oneself_tells_no_one(session, town):
    first = post_comment(session, town["norm"], town["ben"], "A thought")
    post_comment(session, town["norm"], town["ben"], "And another", parent=first)
    session.commit()
    assert notices(session, town["ben"]) == []


def test_a_mention_tells_members_at_once_by_email_and_outsiders_nothing(session, town):
    ben, outsider = town["ben"], town["outsider"]
    body = f"@{ben.handle} and @{outsider.handle}, see this. Not `@{town['cat'].handle}`."
    comment = post_comment(session, town["norm"], town["ann"], body)
    session.commit()
    (notice,) = notices(session, ben, "mention")
    assert notice.summary == "Ann Author mentioned you in a comment on “Cite the base”"
    assert notice.target.endswith(f"/comments/{comment.id}")
    assert notices(session, outsider) == []  # cannot see the norm: told nothing
    assert notices(session, town["cat"]) == []  # inside code: no mention
    (mail,) = mails(session, "notice-mention")
    assert mail.recipient == ben.email
    assert mail.subject == f"[{town['community'].name}] {notice.summary}"
    assert mail.unsubscribe_url and "/notifications/unsubscribe/" in mail.unsubscribe_url


def test_a_mention_shows_a_members_name_and_reveals_no_one_else(client, session, town):
    ben, outsider = town["ben"], town["outsider"]
    post_comment(session, town["norm"], town["ann"], f"Ask @{ben.handle} or @{outsider.handle}")
    session.commit()
    login(client, town["cat"])
    norm = town["norm"]
    page = client.get(f"/c/{norm.community.slug}/norms/{norm.slug}").get_data(as_text=True)
    assert f'<a class="mention" href="/members/{ben.handle}">@Ben Reader</a>' in page
    assert f"@{outsider.handle}" in page and "Otto" not in page


def test_mentions_in_an_essay_are_heard_when_it_opens_and_only_new_ones_on_revision(
    session, factory, town
):
    ann, ben, cat = town["ann"], town["ben"], town["cat"]
    draft_norm = factory.norm(
        town["community"], ann, status="draft", body=f"Thanks to @{ben.handle}."
    )
    assert notices(session, ben, "mention") == []  # a draft is the author's alone
    change_status(session, draft_norm, ann, "open")
    session.commit()
    assert len(notices(session, ben, "mention")) == 1
    revise(session, factory, draft_norm, ann, f"Also @{cat.handle}.", material=False)
    assert len(notices(session, ben, "mention")) == 1  # already mentioned
    assert len(notices(session, cat, "mention")) == 1


# -- Norms: revisions, status, responses, opening ------------------------------------------


def test_a_material_revision_asks_those_who_answered_to_re_read(session, factory, town):
    norm, ben = town["norm"], town["ben"]
    record_response(session, norm, ben, "yes", "endorse")
    session.commit()
    revise(session, factory, norm, town["ann"], "Typo fixed.", material=False)
    assert notices(session, ben, "revised") == []  # minor: nothing to re-read
    revise(session, factory, norm, town["ann"], "Now covers charts.")
    (notice,) = notices(session, ben, "revised")
    assert "re-read needed (version 3: Now covers charts.)" in notice.summary
    assert notice.target.endswith("/diff?to=3")
    revise(session, factory, norm, town["ann"], "And maps.")
    (notice,) = notices(session, ben, "revised")  # folded into the unread one
    assert notice.count == 2 and "changed materially 2 times" in notice.summary
    assert notices(session, town["cat"], "revised") == []  # never answered


def test_responses_to_my_norm_are_grouped_until_read(session, factory, town):
    norm, ann = town["norm"], town["ann"]
    record_response(session, norm, town["ben"], "yes", "endorse")
    session.commit()
    (notice,) = notices(session, ann, "responses")
    assert notice.summary == "Ben Reader responded to “Cite the base”"
    for name in ("Dee", "Eve"):
        record_response(
            session, norm, factory.member(town["community"], name=name), "yes", "reject"
        )
    session.commit()
    (notice,) = notices(session, ann, "responses")
    assert (notice.count, notice.summary) == (3, "3 responses to “Cite the base”")
    services.mark_read(session, ann, notice.id)
    record_response(session, norm, town["cat"], "partly", "undecided")
    session.commit()
    assert [n.count for n in notices(session, ann, "responses")] == [3, 1]


def test_the_author_hears_of_status_changes_made_by_others(session, town):
    norm, ann, cat = town["norm"], town["ann"], town["cat"]
    norm.status = "open"
    change_status(session, norm, cat, "withdrawn")
    session.commit()
    (notice,) = notices(session, ann, "status")
    assert notice.summary == "“Cite the base”, which you wrote, is now withdrawn"


def test_watch_levels_decide_who_hears_of_a_norm_opening_and_of_activity(
    client, session, factory, town
):
    ben, cat, community = town["ben"], town["cat"], town["community"]
    login(client, ben)
    assert client.post(f"/c/{community.slug}/watch", data={"level": "watching"}).status_code == 303
    login(client, cat)
    assert client.post(f"/c/{community.slug}/watch", data={"level": "muted"}).status_code == 303
    assert client.post(f"/c/{community.slug}/watch", data={"level": "loud"}).status_code == 303
    assert services.watch_level(session, cat, community) == "muted"  # unknown level refused

    fresh = factory.norm(community, town["ann"], status="draft", title="Late replies")
    change_status(session, fresh, town["ann"], "open")
    session.commit()
    (notice,) = notices(session, ben, "opened")
    assert notice.summary == f"New in {community.name}: “Late replies” is open for discussion"
    assert notices(session, cat, "opened") == [] and notices(session, town["owner"], "opened") == []

    # Muted: activity is not heard; what is about the member personally still is.
    record_response(session, town["norm"], cat, "yes", "endorse")
    session.commit()
    revise(session, factory, town["norm"], town["ann"], "Changed.")
    assert notices(session, cat, "revised") == []
    post_comment(session, town["norm"], town["ann"], f"@{cat.handle} what do you think?")
    session.commit()
    assert len(notices(session, cat, "mention")) == 1


def test_outsiders_cannot_set_a_watch_level(client, town):
    login(client, town["outsider"])
    community = town["community"]
    assert client.post(f"/c/{community.slug}/watch", data={"level": "watching"}).status_code == 404


# -- Exposure: nudges, checks, reminders ---------------------------------------------------


def test_a_nudge_always_shows_in_the_app_whatever_the_digest_setting(session, town):
    ben = town["ben"]
    set_preference(session, ben.id, town["community"].id, "off")
    nudge(session, town["cat"], town["norm"], [ben])
    session.commit()
    (notice,) = notices(session, ben, "nudge")
    assert notice.summary.startswith(f"A steward of {town['community'].name} asks you to read")


def test_checks_about_me_are_told_by_the_job_once(client, session, town):
    """The check page and the API only record the check; the job tells the person checked."""
    ben, cat, norm = town["ben"], town["cat"], town["norm"]
    login(client, cat)
    made = client.post(
        "/exposure/check",
        data={"community": norm.community.slug, "norm": norm.slug, "member": str(ben.id)},
    )
    assert made.status_code == 303
    api = f"/api/v1/communities/{norm.community.slug}/norms/{norm.slug}/exposure/{ben.id}"
    assert client.get(api, headers=token_for(session, town["ann"])).status_code == 200
    assert notices(session, ben, "check") == []  # nothing in the requests themselves

    assert tell_the_people_checked(session) == 2
    session.commit()
    first, second = notices(session, ben, "check")
    assert first.summary == "Cat Steward checked what you have seen of “Cite the base”"
    assert first.target == made.headers["Location"]  # the check's own record
    assert (first.actor_id, second.actor_id) == (cat.id, town["ann"].id)
    assert len(mails(session, "notice-check")) == 2  # checks go out at once by default

    assert tell_the_people_checked(session) == 0  # a second run tells no one again
    session.commit()
    assert len(notices(session, ben, "check")) == 2
    login(client, ben)
    assert client.get(first.target).status_code == 200  # the person checked may see it


def test_a_check_of_oneself_tells_no_one(client, session, town):
    ben, norm = town["ben"], town["norm"]
    login(client, ben)
    client.post(
        "/exposure/check",
        data={"community": norm.community.slug, "norm": norm.slug, "member": str(ben.id)},
    )
    assert tell_the_people_checked(session) == 1
    session.commit()
    assert notices(session, ben) == []


# -- Reading, settings, unsubscribing ------------------------------------------------------


def test_the_bell_the_page_opening_and_marking_read(client, session, town):
    ben = town["ben"]
    first = post_comment(session, town["norm"], ben, "Which base?")
    reply = post_comment(session, town["norm"], town["cat"], "This one.", parent=first)
    post_comment(session, town["norm"], town["ann"], f"Ping @{ben.handle}")
    session.commit()
    login(client, ben)
    page = client.get("/notifications").get_data(as_text=True)
    assert 'aria-label="Notifications, 2 unread"' in page
    assert '<span class="bell-count">2</span>' in page
    reply_notice, mention_notice = notices(session, ben)
    opened = client.post(f"/notifications/{reply_notice.id}/open")
    assert opened.status_code == 303
    assert opened.headers["Location"].endswith(f"/comments/{reply.id}")
    landed = client.get(opened.headers["Location"])
    assert landed.headers["Location"].endswith(f"/norms/{town['norm'].slug}#comment-{reply.id}")
    assert 'aria-label="Notifications, 1 unread"' in client.get("/").get_data(as_text=True)
    assert client.post("/notifications/read-all").status_code == 303
    page = client.get("/notifications").get_data(as_text=True)
    assert 'aria-label="Notifications, 0 unread"' in page and "bell-count" not in page
    # Someone else's notice is no one's to open.
    login(client, town["cat"])
    assert client.post(f"/notifications/{mention_notice.id}/open").status_code == 404


def test_choosing_no_email_for_a_kind_stops_its_email_not_the_notice(client, session, town):
    ben = town["ben"]
    login(client, ben)
    page = client.get("/settings/notifications").get_data(as_text=True)
    assert 'name="mention" value="email" checked' in page
    choices = {kind: "digest" for kind in services.KINDS}
    choices["mention"] = "off"
    assert client.post("/settings/notifications", data=choices).status_code == 303
    choices["mention"] = "shout"
    assert client.post("/settings/notifications", data=choices).status_code == 400
    assert services.delivery_for(session, ben, "mention") == "off"
    post_comment(session, town["norm"], town["ann"], f"@{ben.handle} look")
    session.commit()
    assert len(notices(session, ben, "mention")) == 1
    assert mails(session, "notice-mention") == []


def test_one_click_unsubscribe_stops_that_kind_only(client, session, town):
    ben = town["ben"]
    post_comment(session, town["norm"], town["ann"], f"@{ben.handle} look")
    session.commit()
    (mail,) = mails(session, "notice-mention")
    path = re.sub(r"^https?://[^/]+", "", mail.unsubscribe_url)
    asked = client.get(path)
    assert asked.status_code == 200 and "Stop these emails?" in asked.get_data(as_text=True)
    assert services.delivery_for(session, ben, "mention") == "email"  # a GET changes nothing
    done = client.post(path)  # as a mail client does (RFC 8058): no login, no CSRF token
    assert done.status_code == 200
    assert services.delivery_for(session, ben, "mention") == "off"
    assert services.delivery_for(session, ben, "check") == "email"
    assert client.post(path[:-3] + "xyz").status_code == 400


def test_the_api_lists_and_marks_read_with_a_token(client, session, town):
    ben = town["ben"]
    post_comment(session, town["norm"], town["ann"], f"@{ben.handle} look")
    session.commit()
    headers = token_for(session, ben)
    listed = client.get("/api/v1/notifications?unread=1", headers=headers).get_json()
    assert listed["unread"] == 1 and listed["total"] == 1
    (item,) = listed["notifications"]
    assert item["kind"] == "mention" and item["unread"] is True
    assert item["url"].startswith("http") and "/comments/" in item["url"]
    read = client.post(f"/api/v1/notifications/{item['id']}/read", headers=headers)
    assert read.status_code == 200 and read.get_json()["unread"] is False
    assert client.get("/api/v1/notifications?unread=1", headers=headers).get_json()["total"] == 0
    assert client.post("/api/v1/notifications/read-all", headers=headers).get_json() == {
        "marked": 0,
        "unread": 0,
    }
    other = token_for(session, town["cat"])
    assert client.post(f"/api/v1/notifications/{item['id']}/read", headers=other).status_code == 404
    assert client.get("/api/v1/notifications").status_code == 401


def test_the_bell_costs_one_query_whatever_the_number_of_notices(app, client, session, town):
    ben = town["ben"]
    engine = app.extensions["normhub.engine"]
    login(client, ben)

    def statements(path: str) -> list[str]:
        seen = []

        def listener(*args):
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return seen

    before = statements("/settings")
    for n in range(6):
        post_comment(session, town["norm"], town["ann"], f"@{ben.handle} number {n}")
    session.commit()
    after = statements("/settings")
    assert len(after) == len(before)
    counting = [s for s in after if "FROM notifications" in s]
    assert len(counting) == 1 and "count(" in counting[0].lower()
    assert html.unescape("6") in client.get("/settings").get_data(as_text=True)


def test_leaving_a_members_only_community_takes_its_notices_out_of_sight(client, session, town):
    ben = town["ben"]
    post_comment(session, town["norm"], town["ann"], f"@{ben.handle} look")
    session.commit()
    (notice,) = notices(session, ben)
    login(client, ben)
    assert 'aria-label="Notifications, 1 unread"' in client.get("/settings").get_data(as_text=True)
    leave(session, town["community"], ben)
    session.commit()
    page = client.get("/notifications").get_data(as_text=True)
    assert 'aria-label="Notifications, 0 unread"' in page and "Cite the base" not in page
    assert client.post(f"/notifications/{notice.id}/open").status_code == 404
    headers = token_for(session, ben)
    assert client.get("/api/v1/notifications", headers=headers).get_json()["total"] == 0
