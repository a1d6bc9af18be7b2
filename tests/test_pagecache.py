"""The anonymous page cache: visitors get kept pages until what they show changes.

Every change a page shows makes exactly the pages that show it a miss (with the
new content) while the rest stay hits; members never get a kept page nor leave
theirs behind; nothing personal (a CSRF token, a flashed message) is ever kept;
a community going members-only drops its pages at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import flash, render_template_string, signals
from sqlalchemy import event

from normhub.accounts.deletion import delete_account
from normhub.accounts.services import update_profile
from normhub.communities.services import CommunitySettings, update_settings
from normhub.discussion.services import post_comment
from normhub.norms.services import change_status, revise_norm
from normhub.pagecache import tags
from normhub.responses.services import record_response
from normhub.reviews.schedule import open_review
from normhub.reviews.services import decide
from tests.conftest import login, new_client


@pytest.fixture(params=["local", "redis"])
def app_overrides(request):
    """Every behaviour with pages kept in this process, and kept in Redis."""
    if request.param == "local":
        return {"RATELIMIT_ENABLED": False}
    return {"RATELIMIT_ENABLED": False, **request.getfixturevalue("redis_page_cache")}


@dataclass
class World:
    here: object  # the community the changes happen in
    elsewhere: object  # another public community
    author: object
    steward: object
    reader: object
    norm: object  # the norm the changes happen to
    sibling: object  # another norm in the same community
    far: object  # a norm in the other community

    def url(self, norm) -> str:
        return f"/c/{norm.community.slug}/norms/{norm.slug}"

    @property
    def pages(self) -> dict[str, str]:
        here, elsewhere = f"/c/{self.here.slug}", f"/c/{self.elsewhere.slug}"
        return {
            "home": "/",
            "communities": "/communities",
            "list": here,
            "list tagged": f"{here}?tag=statistics&page=1",
            "about": f"{here}/about",
            "norm": self.url(self.norm),
            "versions": f"{self.url(self.norm)}/versions",
            "sibling": self.url(self.sibling),
            "other list": elsewhere,
            "other about": f"{elsewhere}/about",
            "far norm": self.url(self.far),
            "author": f"/members/{self.author.handle}",
            "reader": f"/members/{self.reader.handle}",
        }


@pytest.fixture
def world(factory) -> World:
    steward = factory.user("Stella Steward")
    # No gate to pass: a steward may put a norm in force at once (the gate has its own tests).
    here = factory.community(steward, coverage_min_responses=0, coverage_threshold_pct=0)
    elsewhere = factory.community(factory.user("Otto Other"))
    author = factory.member(here, name="Ann Author")
    reader = factory.member(here, name="Rea Reader")
    norm = factory.norm(here, author, title="Cite the base")
    sibling = factory.norm(here, factory.member(here), title="Name the version", tags=["versions"])
    far = factory.norm(elsewhere, title="Far away norm")
    return World(here, elsewhere, author, steward, reader, norm, sibling, far)


def warm(client, world: World) -> dict[str, bytes]:
    """Every page requested until it is kept; what each said."""
    bodies = {}
    for name, url in world.pages.items():
        client.get(url)
        again = client.get(url)
        assert again.status_code == 200, name
        assert again.headers["X-Cache"] == "hit", name
        bodies[name] = again.data
    return bodies


def misses(client, world: World) -> set[str]:
    """The pages that are no longer kept (each is then requested again, and kept)."""
    return {
        name for name, url in world.pages.items() if client.get(url).headers["X-Cache"] == "miss"
    }


def test_a_kept_page_comes_back_byte_for_byte_without_a_query(app, client, world):
    counter = []
    engine = app.extensions["normhub.engine"]

    def seen(*_args):
        counter.append(1)

    for url in world.pages.values():
        first = client.get(url)
        assert first.headers["X-Cache"] == "miss"
        assert first.headers["Cache-Control"] == "no-cache"
        assert "Cookie" in first.headers["Vary"]
        event.listen(engine, "before_cursor_execute", seen)
        try:
            second = client.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert second.headers["X-Cache"] == "hit"
        assert second.data == first.data
        assert second.headers["Content-Type"] == first.headers["Content-Type"]
        assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
        assert counter == [], f"a kept page ran {len(counter)} statements: {url}"


def test_the_query_string_is_part_of_the_key_whatever_its_order(client, world):
    base = f"/c/{world.here.slug}"
    assert client.get(f"{base}?tag=statistics&page=1").headers["X-Cache"] == "miss"
    assert client.get(f"{base}?page=1&tag=statistics").headers["X-Cache"] == "hit"
    assert client.get(f"{base}?tag=evidence&page=1").headers["X-Cache"] == "miss"
    assert client.get(f"{base}?tag=statistics&page=2").headers["X-Cache"] == "miss"


def test_a_comment_changes_its_norm_its_lists_and_the_home_page(client, session, world):
    warm(client, world)
    post_comment(session, world.norm, world.reader, "A base of *forty* people is a small base.")
    assert misses(client, world) == {"home", "list", "list tagged", "norm", "versions", "author"}
    assert b"small base" in client.get(world.pages["norm"]).data


def test_a_response_changes_its_norm_page_only(client, session, world):
    bodies = warm(client, world)
    record_response(session, world.norm, world.reader, "yes", "endorse")
    # The list counts responders; the coverage on the norm page counts the new level.
    changed = misses(client, world)
    assert changed <= {"home", "list", "list tagged", "norm", "versions", "author"}
    assert {"norm", "list"} <= changed
    assert {"sibling", "far norm", "other list", "communities", "about"}.isdisjoint(changed)
    assert client.get(world.pages["norm"]).data != bodies["norm"]


def test_a_revision_of_title_and_tags_changes_its_pages_and_the_tag_lists(
    client, session, factory, world
):
    warm(client, world)
    draft = factory.draft("Cite the base, always", tags=["evidence"])
    revise_norm(session, world.norm, world.author, draft, "Sharper title", True)
    changed = misses(client, world)
    assert {"norm", "versions", "list", "list tagged", "home", "author"} <= changed
    assert {"sibling", "far norm", "other list", "other about", "communities"}.isdisjoint(changed)
    assert b"Cite the base, always" in client.get(world.pages["norm"]).data
    # The norm no longer has the tag the filtered list asks for.
    assert b"Cite the base" not in client.get(world.pages["list tagged"]).data


def test_a_status_change_changes_the_counts_pages_too(client, session, world):
    warm(client, world)
    change_status(session, world.norm, world.steward, "in_force")
    changed = misses(client, world)
    assert {"norm", "list", "about", "communities", "home", "author"} <= changed
    assert {"sibling", "far norm", "other list", "other about"}.isdisjoint(changed)
    assert b"In force" in client.get(world.pages["norm"]).data


def test_a_review_kept_changes_its_norm_and_its_authors_record(client, session, world):
    change_status(session, world.norm, world.steward, "in_force")
    round_ = open_review(session, world.norm)
    session.commit()
    warm(client, world)
    author_page = world.pages["author"]
    assert b'data-label="Kept"><a href="' in client.get(author_page).data
    decide(session, round_, world.steward, "kept")
    session.commit()
    changed = misses(client, world)
    assert {"norm", "author"} <= changed
    assert {"sibling", "far norm", "other list", "reader"}.isdisjoint(changed)
    page = client.get(author_page).get_data(as_text=True)
    kept = page[page.index('data-count="kept"') :]
    assert kept[kept.index("record-count") :].startswith('record-count">1</a>')


def _settings(community, **changes) -> CommunitySettings:
    fields = {
        "name": community.name,
        "description": community.description,
        "visibility": community.visibility,
        "join_policy": community.join_policy,
        "coverage_threshold_pct": community.coverage_threshold_pct,
        "coverage_min_responses": community.coverage_min_responses,
        "max_open_norms": community.max_open_norms,
        "max_open_per_author": community.max_open_per_author,
    }
    fields.update(changes)
    return CommunitySettings(**fields)


def test_a_new_name_and_description_change_every_page_of_the_community(client, session, world):
    warm(client, world)
    settings = _settings(world.here, name="Riverbank Readers", description="We read slowly.")
    update_settings(session, world.here, world.steward, settings)
    changed = misses(client, world)
    assert {"norm", "versions", "sibling", "list", "list tagged", "about", "communities"} <= changed
    assert {"far norm", "other list", "other about"}.isdisjoint(changed)
    assert b"Riverbank Readers" in client.get(world.pages["sibling"]).data
    assert b"We read slowly." in client.get(world.pages["about"]).data


def test_a_community_going_members_only_drops_its_pages_at_once(client, session, world):
    bodies = warm(client, world)
    assert world.here.name.encode() in bodies["home"]
    assert b"Cite the base" in bodies["author"]
    update_settings(session, world.here, world.steward, _settings(world.here, visibility="members"))
    session.commit()
    for name in ("list", "list tagged", "about", "norm", "versions", "sibling"):
        assert client.get(world.pages[name]).status_code == 404, name
    for name in ("home", "communities", "author"):
        response = client.get(world.pages[name])
        assert response.headers["X-Cache"] == "miss", name
        assert world.here.name.encode() not in response.data, name
        assert b"Cite the base" not in response.data, name
    for name in ("far norm", "other list", "other about"):
        assert client.get(world.pages[name]).headers["X-Cache"] == "hit", name


def test_a_new_display_name_changes_the_pages_that_show_it(client, session, world):
    post_comment(session, world.sibling, world.reader, "A comment by the reader.")
    warm(client, world)
    update_profile(session, world.author, "Ann Newname", "")
    changed = misses(client, world)
    # The author's norm and their member page show the name; the sibling only the reader's.
    assert {"norm", "versions", "author"} <= changed
    assert {"sibling", "far norm", "list", "other list", "home", "communities"}.isdisjoint(changed)
    assert b"Ann Newname" in client.get(world.pages["norm"]).data


def test_deleting_an_account_changes_the_pages_that_show_them(client, session, world):
    post_comment(session, world.sibling, world.reader, "Words the reader will take down.")
    warm(client, world)
    delete_account(session, world.reader, "correct horse battery", remove_writing=True)
    session.commit()
    changed = misses(client, world)
    assert {"sibling", "about", "communities"} <= changed
    assert {"far norm", "other list", "other about"}.isdisjoint(changed)
    sibling = client.get(world.pages["sibling"]).data
    assert b"Rea Reader" not in sibling
    assert b"Words the reader will take down." not in sibling


def test_a_member_never_gets_a_kept_page_nor_leaves_theirs(app, session, world):
    visitor = new_client(app, session)
    member = login(new_client(app, session), world.reader)
    for url in (world.pages["list"], world.pages["versions"], world.pages["norm"]):
        assert visitor.get(url).headers["X-Cache"] == "miss"
        assert visitor.get(url).headers["X-Cache"] == "hit"
        for _ in range(2):
            page = member.get(url)
            assert "X-Cache" not in page.headers
            assert page.headers["Cache-Control"] == "private, no-cache"
            assert b"Log out" in page.data
        kept = visitor.get(url)
        assert b"Log out" not in kept.data
        if url != world.pages["norm"]:
            assert kept.headers["X-Cache"] == "hit"
    # The member opening the norm raised its coverage: visitors get the new count.
    assert visitor.get(world.pages["norm"]).headers["X-Cache"] == "hit"
    # A page a member saw first is not kept for visitors either.
    assert b"Log out" in member.get("/").data
    assert visitor.get("/").headers["X-Cache"] == "miss"
    assert b"Log out" not in visitor.get("/").data


def test_a_visitor_with_a_message_waiting_gets_a_fresh_page_and_it_is_not_kept(client, world):
    url = world.pages["norm"]
    client.get(url)
    with client.session_transaction() as cookie:
        cookie["_flashes"] = [("info", "Your link has expired.")]
    page = client.get(url)
    assert "X-Cache" not in page.headers
    assert b"Your link has expired." in page.data
    after = client.get(url)
    assert after.headers["X-Cache"] == "hit"
    assert b"Your link has expired." not in after.data


@pytest.fixture
def personal_page(app, monkeypatch):
    """A page (kept, were it not personal) showing a CSRF token or flashing a message."""

    def page():
        from flask import request

        if request.args.get("flash"):
            flash("Just for you.", "info")
        return render_template_string(
            "{% extends 'base.html' %}{% block content %}"
            "{% if request.args.get('csrf') %}<input name=csrf_token value='{{ csrf_token() }}'>"
            "{% endif %}{% endblock %}"
        )

    app.add_url_rule("/personal", "personal", page)
    monkeypatch.setitem(tags.PAGE_LISTS, "personal", lambda _tags: set())
    return "/personal"


@pytest.mark.parametrize("query", ["?csrf=1", "?flash=1"])
def test_a_page_with_a_csrf_token_or_a_flash_is_never_kept(client, personal_page, query):
    for _ in range(3):
        page = client.get(personal_page + query)
        assert page.headers["X-Cache"] == "miss"
        assert page.headers["Cache-Control"] == "private, no-cache"  # nor kept by a proxy
    # Without them the same page is kept.
    client.get(personal_page)
    assert client.get(personal_page).headers["X-Cache"] == "hit"


def test_a_page_rendered_while_a_write_commits_is_not_kept(app, client, session, world):
    """It may show what was there before the write, under the versions after it."""
    url = world.pages["far norm"]
    writes = iter([lambda: post_comment(session, world.norm, world.reader, "Meanwhile.")])

    def write_meanwhile(_app, **_extra):
        for write in writes:
            write()
            session.commit()
            break

    with signals.before_render_template.connected_to(write_meanwhile, app):
        assert client.get(url).headers["X-Cache"] == "miss"
    assert client.get(url).headers["X-Cache"] == "miss"
    assert client.get(url).headers["X-Cache"] == "hit"


def test_a_rolled_back_write_changes_nothing(client, session, world):
    warm(client, world)
    post_comment(session, world.norm, world.reader, "Never mind.")
    session.rollback()
    assert misses(client, world) == set()
