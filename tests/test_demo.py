from collections import Counter

from sqlalchemy import func, select

from normhub.accounts.models import User
from normhub.accounts.services import authenticate, register_user
from normhub.communities.models import Community, Membership
from normhub.db import session_scope
from normhub.demo import content
from normhub.discussion.models import Comment
from normhub.exposure.report import RECOMMENDATION_TONES
from normhub.exposure.standing import standing
from normhub.norms.models import Norm, NormVersion
from normhub.responses.models import Response
from normhub.responses.services import aggregate_responses
from normhub.reviews.models import NormReview, ReviewAnswer, ReviewAssumptionResult
from tests.search_helpers import indexed


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_demo_load_fills_an_empty_database(app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert content.DEMO_PASSWORD in result.output
    assert "mira@example.org" in result.output
    assert "Note:" not in result.output  # no step was refused

    with session_scope(app) as session:
        assert count(session, User) == len(content.PEOPLE)
        mira = session.scalar(select(User).where(User.email == "mira@example.org"))
        assert authenticate(session, mira.email, content.DEMO_PASSWORD) is not None

        riverside = session.scalar(select(Community).where(Community.slug == "riverside-commons"))
        tenants = session.scalar(select(Community).where(Community.slug == "riverside-tenants"))
        assert riverside.visibility == "public" and tenants.visibility == "members"
        roles = Counter(
            session.scalars(select(Membership.role).where(Membership.community_id == riverside.id))
        )
        assert roles == {"admin": 1, "steward": 1, "member": 6}

        norms = {
            n.title: n
            for n in session.scalars(select(Norm).where(Norm.community_id == riverside.id))
        }
        assert len(norms) == 7
        statuses = Counter(n.status for n in norms.values())
        assert statuses == {"open": 4, "in_force": 1, "draft": 1, "withdrawn": 1}
        in_force = norms["Give a week's notice before changing shared rules"]
        assert in_force.status == "in_force"
        assert len(list(session.scalars(select(Norm.id).where(Norm.community_id == tenants.id))))

        # Several norms have a history, with material and minor revisions.
        versions = session.execute(select(NormVersion.norm_id, NormVersion.is_material)).all()
        per_norm = Counter(norm_id for norm_id, _ in versions)
        assert sum(1 for n in per_norm.values() if n >= 2) >= 4
        assert max(per_norm.values()) == 4
        assert any(not material for _, material in versions)
        stats = norms["Quote statistics about a group with their denominators"]
        assert stats.current_version_number == 3
        assert stats.last_material_version_number == 2

        # Responses from several members, with a contested assumption (a crux).
        assert count(session, Response) >= 30
        aggregate = aggregate_responses(session, stats)
        assert aggregate.respondents >= 5
        assert aggregate.crux is not None
        assert aggregate.crux.assumption.position == 2

        # Threaded comments, some about assumptions, one edited, one hidden.
        comments = list(session.scalars(select(Comment)))
        assert len(comments) >= 30
        assert sum(c.parent_id is not None for c in comments) >= 15
        assert sum(c.assumption_key is not None for c in comments) >= 8
        assert sum(c.edited_at is not None for c in comments) == 1
        assert sum(c.hidden_at is not None for c in comments) == 1
        cafe = session.scalar(select(Community).where(Community.slug == "repair-cafe"))
        assert {c.norm.community_id for c in comments} == {riverside.id, tenants.id, cafe.id}


def test_demo_pages_render(app):
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    client = app.test_client()
    page = client.get("/c/riverside-commons/norms/ask-before-forwarding-private-messages")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "What counts as private?" in html
    assert "On assumption 5:" in html
    assert "Log in to comment" in html
    # The members-only community stays hidden from visitors.
    assert client.get("/c/riverside-tenants").status_code == 404
    # The repair café's record: its reminders, each made after a check.
    record = client.get("/c/repair-cafe/record").get_data(as_text=True)
    assert "<strong>3 of 3</strong> reminders" in record
    # The soldering-irons rule was reviewed and kept, one of its assumptions found failed.
    wins = record[record.index('id="clear-wins"') : record.index('id="retired"')]
    assert "Unplug the soldering irons before you leave" in wins
    failed = record[record.index('id="failed-assumptions"') : record.index('id="checked-before')]
    assert "The last person out can always tell who is last." in failed


def test_if_empty_does_nothing_when_users_exist(app):
    with session_scope(app) as session:
        register_user(session, "someone@example.org", "Someone", "a long enough password")
    result = app.test_cli_runner().invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0
    assert "not loaded" in result.output
    with session_scope(app) as session:
        assert count(session, User) == 1
        assert count(session, Community) == 0
        assert count(session, Norm) == 0


def test_if_empty_loads_into_an_empty_database_and_a_second_load_is_refused(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load", "--if-empty"]).exit_code == 0
    with session_scope(app) as session:
        users, norms = count(session, User), count(session, Norm)
    assert users == len(content.PEOPLE) and norms == 11

    assert "not loaded" in runner.invoke(args=["demo", "load", "--if-empty"]).output
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code != 0
    assert "already loaded" in again.output
    with session_scope(app) as session:
        assert (count(session, User), count(session, Norm)) == (users, norms)


def test_a_refused_status_change_is_reported_not_fatal(app, monkeypatch):
    from normhub.demo import cli as demo_cli_module
    from normhub.errors import ValidationFailed
    from normhub.norms.services import change_status

    def gatekeeper(session, norm, actor, to_status, note=""):
        if to_status == "in_force":
            raise ValidationFailed("Not enough of the community has understood this version.")
        return change_status(session, norm, actor, to_status, note)

    monkeypatch.setattr(demo_cli_module, "change_status", gatekeeper)
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Note: “Give a week's notice before changing shared rules” was not moved" in (
        result.output
    )
    with session_scope(app) as session:
        statuses = Counter(session.scalars(select(Norm.status)))
        assert statuses["in_force"] == 0
        assert count(session, Comment) >= 30  # everything else was still loaded


def test_demo_content_is_searchable(app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    with session_scope(app) as session:
        norm_ids = set(session.scalars(select(Norm.id)))
        visible_comments = set(
            session.scalars(select(Comment.id).where(Comment.hidden_at.is_(None)))
        )
    documents = indexed(app)
    assert {f"norm:{n}" for n in norm_ids} <= documents.keys()
    assert {f"comment:{c}" for c in visible_comments} <= documents.keys()


def test_the_demo_shows_every_answer_of_the_exposure_check(app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Note:" not in result.output
    names = {person.handle: person.display_name for person in content.PEOPLE}
    codes = set()
    with session_scope(app) as session:
        for who, title, code in content.EXPOSURE_TRIES:
            person = session.scalar(select(User).where(User.display_name == names[who]))
            norm = session.scalar(select(Norm).where(Norm.title == title))
            assert standing(session, norm, person).recommendation.code == code, (who, title)
            # Each is printed, so a visitor can try it.
            assert f"{names[who]} on “{title}” → {code}" in result.output
            codes.add(code)
    assert codes == set(RECOMMENDATION_TONES)  # every answer the check can give

    # The irons rule came into force 14 months ago; the café asks for a re-read every 12.
    with session_scope(app) as session:
        irons = session.scalar(select(Norm).where(Norm.title.startswith("Unplug the soldering")))
        aisha = session.scalar(select(User).where(User.display_name == names["aisha"]))
        jonas = session.scalar(select(User).where(User.display_name == names["jonas"]))
        aged = standing(session, irons, aisha)
        assert "Last read 14 months ago; this community asks for a re-read every 12." in (
            aged.answer
        )
        assert not standing(session, irons, jonas).stale_by_age  # he read it again

    # The irons rule was reworded after everyone answered: their answers stand.
    with session_scope(app) as session:
        irons = session.scalar(select(Norm).where(Norm.title.startswith("Unplug the soldering")))
        assert (irons.current_version_number, irons.last_material_version_number) == (2, 1)
        # The four who answered version 1 still count, beside Noor, the newcomer, on version 2.
        aggregate = aggregate_responses(session, irons)
        assert (aggregate.respondents, aggregate.counted_from) == (5, 1)


def test_the_demo_has_a_reviewed_norm_with_a_failed_assumption(app):
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    with session_scope(app) as session:
        review = session.scalar(select(NormReview))
        assert review.norm.title == "Unplug the soldering irons before you leave"
        assert review.outcome == "kept"
        verdicts = {
            r.assumption.position: r.verdict
            for r in session.scalars(select(ReviewAssumptionResult))
        }
        assert verdicts == {1: "held", 2: "failed"}
        assert count(session, ReviewAnswer) == 4
    page = app.test_client().get("/c/repair-cafe/norms/" + review.norm.slug)
    html = page.get_data(as_text=True)
    assert '<strong id="review-last-outcome">Kept</strong>' in html
    assert "The last person out can always tell who is last.: <span" in html
    assert "<strong>failed</strong> (0 held, 3 failed, 1 unclear)" in html
