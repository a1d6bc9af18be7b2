"""Proposing, editing, reading and moving norms through the web pages."""

import re

import pytest
from sqlalchemy import func, select

from normhub.errors import ValidationFailed
from normhub.norms.models import Norm, NormPrerequisite
from normhub.norms.services import parse_significance, revise_norm
from tests.conftest import login


def norm_form(title="Say who decided", **extra):
    data = {
        "title": title,
        "summary": "Every decision record names the people who made it.",
        "body": "## Why\n\nUnnamed decisions cannot be questioned.",
        "tags": "decisions, transparency",
        "assumptions-0-position": "1",
        "assumptions-0-statement": "People want to know who to ask.",
        "assumptions-0-explanation": "",
        "assumptions-1-position": "2",
        "assumptions-1-statement": "",
        "assumptions-1-explanation": "",
        "assumptions-2-position": "3",
        "assumptions-2-statement": "Naming people does not chill honest decisions.",
        "assumptions-2-explanation": "Most decisions are routine.",
    }
    data.update(extra)
    return data


def norm_count(session):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Norm))


def edit_form(norm, **extra):
    version = norm.current_version
    data = {
        "title": version.title,
        "summary": version.summary,
        "body": version.body,
        "tags": ", ".join(norm.tag_names),
        "change_summary": "",
        "significance": "material",
    }
    for index, assumption in enumerate(version.assumptions):
        data[f"assumptions-{index}-key"] = str(assumption.key)
        data[f"assumptions-{index}-position"] = str(assumption.position)
        data[f"assumptions-{index}-statement"] = assumption.statement
        data[f"assumptions-{index}-explanation"] = assumption.explanation
    data.update(extra)
    return data


def show_url(norm):
    return f"/c/{norm.community.slug}/norms/{norm.slug}"


# --- proposing -----------------------------------------------------------------


def test_anonymous_is_sent_to_login(factory, client):
    community = factory.community()
    response = client.get(f"/c/{community.slug}/norms/new")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_non_member_cannot_propose(factory, session, client, login_as):
    community = factory.community()
    login_as(factory.user())
    assert client.get(f"/c/{community.slug}/norms/new").status_code == 403
    assert client.post(f"/c/{community.slug}/norms/new", data=norm_form()).status_code == 403
    assert norm_count(session) == 0


def test_member_proposes_a_norm(factory, session, client, login_as):
    community = factory.community()
    author = factory.member(community)
    login_as(author)
    page = client.get(f"/c/{community.slug}/norms/new")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count('name="assumptions-') >= 3 * 4
    response = client.post(f"/c/{community.slug}/norms/new", data=norm_form())
    assert response.status_code == 302
    norm = session.scalar(select(Norm).where(Norm.community_id == community.id))
    assert response.headers["Location"].endswith(show_url(norm))
    assert norm.author_id == author.id and norm.status == "draft"
    assert norm.tag_names == ["decisions", "transparency"]
    statements = [a.statement for a in norm.current_version.assumptions]
    # The blank middle row is ignored.
    assert statements == [
        "People want to know who to ask.",
        "Naming people does not chill honest decisions.",
    ]
    assert norm.current_version.assumptions[1].explanation == "Most decisions are routine."


def test_add_rows_rerenders_without_saving(factory, session, client, login_as):
    community = factory.community()
    login_as(factory.member(community))
    response = client.post(
        f"/c/{community.slug}/norms/new", data=norm_form(add_rows="Add more assumption rows")
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="assumptions-5-statement"' in html
    assert "Naming people does not chill honest decisions." in html
    assert norm_count(session) == 0


def test_positions_reorder_assumptions(factory, session, client, login_as):
    community = factory.community()
    login_as(factory.member(community))
    data = norm_form(**{"assumptions-0-position": "9", "assumptions-2-position": "1"})
    assert client.post(f"/c/{community.slug}/norms/new", data=data).status_code == 302
    norm = session.scalar(select(Norm).where(Norm.community_id == community.id))
    assert norm.current_version.assumptions[0].statement.startswith("Naming people")


def test_validation_errors_are_400_with_messages(factory, session, client, login_as):
    community = factory.community()
    login_as(factory.member(community))
    url = f"/c/{community.slug}/norms/new"
    cases = [
        (norm_form(title="  "), "Title is required."),
        (norm_form(title="t" * 200), "Title must be at most 160 characters."),
        (
            norm_form(**{"assumptions-0-statement": "", "assumptions-2-statement": ""}),
            "has an explanation but no statement",
        ),
        (
            norm_form(
                **{
                    "assumptions-0-statement": "",
                    "assumptions-2-statement": "",
                    "assumptions-2-explanation": "",
                }
            ),
            "State at least one assumption",
        ),
        (norm_form(tags="good, not<ok>"), "must be lowercase letters, digits and dashes"),
        (norm_form(**{"assumptions-0-position": "first"}), "Not a valid integer value"),
        (norm_form(**{"assumptions-0-statement": "s" * 400}), "at most 300 characters"),
    ]
    for data, message in cases:
        response = client.post(url, data=data)
        assert response.status_code == 400, message
        html = response.get_data(as_text=True)
        assert message in html.replace("&lt;", "<").replace("&gt;", ">"), message
    assert norm_count(session) == 0


def test_members_only_community_hides_norm_pages(factory, client, login_as):
    owner = factory.user()
    community = factory.community(owner, visibility="members", join_policy="invite")
    norm = factory.norm(community)
    urls = [
        show_url(norm),
        show_url(norm) + "/versions",
        show_url(norm) + "/v/1",
        f"/c/{community.slug}/norms/new",
    ]
    for url in urls[:3]:
        assert client.get(url).status_code == 404
    login_as(factory.user())
    for url in urls:
        assert client.get(url).status_code == 404, url
    client.post("/logout")
    login_as(factory.member(community))
    for url in urls:
        assert client.get(url).status_code == 200, url


# --- editing -------------------------------------------------------------------


def test_only_author_or_steward_may_edit(factory, client, login_as):
    community = factory.community()
    norm = factory.norm(community)
    edit_url = show_url(norm) + "/edit"
    login_as(factory.member(community))
    assert client.get(edit_url).status_code == 403
    assert client.post(edit_url, data=edit_form(norm, title="Taken over")).status_code == 403
    client.post("/logout")
    login_as(factory.member(community, role="steward"))
    assert client.get(edit_url).status_code == 200
    client.post("/logout")
    login_as(norm.author)
    page = client.get(edit_url).get_data(as_text=True)
    first = norm.current_version.assumptions[0]
    assert f'name="assumptions-0-key" type="hidden" value="{first.key}"' in page
    assert "material" in page and "minor" in page


def test_edit_rewording_keeps_keys_and_stores_minor_flag(factory, session, client, login_as):
    community = factory.community()
    norm = factory.norm(community)
    first, second = norm.current_version.assumptions
    login_as(norm.author)
    data = edit_form(
        norm,
        change_summary="Plainer wording of the first assumption.",
        significance="minor",
        **{
            "assumptions-0-statement": "Few readers can check where a number comes from.",
            "assumptions-0-position": "2",
            "assumptions-1-position": "1",
        },
    )
    response = client.post(show_url(norm) + "/edit", data=data)
    assert response.status_code == 302
    session.expire_all()
    assert norm.current_version_number == 2
    assert norm.last_material_version_number == 1
    version = norm.current_version
    assert not version.is_material
    assert version.change_summary == "Plainer wording of the first assumption."
    assert [a.key for a in version.assumptions] == [second.key, first.key]
    assert version.assumptions[1].statement.startswith("Few readers")

    data = edit_form(norm, change_summary="Narrower scope.", title="Only for public statistics")
    assert client.post(show_url(norm) + "/edit", data=data).status_code == 302
    session.expire_all()
    assert norm.current_version_number == 3
    assert norm.last_material_version_number == 3


@pytest.mark.parametrize("significance", ["trivial", "Minor", "", None])
def test_edit_refuses_an_unknown_significance(factory, session, client, login_as, significance):
    community = factory.community()
    norm = factory.norm(community)
    login_as(norm.author)
    data = edit_form(norm, change_summary="New title.", title="Quote every base")
    if significance is None:
        del data["significance"]
    else:
        data["significance"] = significance
    response = client.post(show_url(norm) + "/edit", data=data)
    assert response.status_code == 400
    assert "Say whether the change is material" in response.get_data(as_text=True)
    session.expire_all()
    # Nothing was taken as material: no new version, earlier reads stay current.
    assert (norm.current_version_number, norm.last_material_version_number) == (1, 1)


def test_revise_norm_takes_only_a_true_or_false_significance(factory, session):
    community = factory.community()
    norm = factory.norm(community)
    draft = factory.draft(title="Quote every base")
    for value in ("minor", "material", 1, None):
        with pytest.raises(ValidationFailed) as refused:
            revise_norm(session, norm, norm.author, draft, "New title.", value)
        assert refused.value.field == "significance"
    for value in ("minor ", "MATERIAL", "", None):
        with pytest.raises(ValidationFailed):
            parse_significance(value)
    assert parse_significance("minor") is False and parse_significance("material") is True
    version = revise_norm(session, norm, norm.author, draft, "New title.", False)
    assert version.number == 2 and not version.is_material


def test_tags_only_edit_makes_no_version(factory, session, client, login_as):
    community = factory.community()
    norm = factory.norm(community)
    login_as(norm.author)
    response = client.post(
        show_url(norm) + "/edit",
        data=edit_form(norm, tags="evidence, numbers"),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "no new version" in response.get_data(as_text=True)
    session.expire_all()
    assert norm.current_version_number == 1
    assert norm.tag_names == ["evidence", "numbers"]


def test_edit_without_change_summary_is_400(factory, session, client, login_as):
    community = factory.community()
    norm = factory.norm(community)
    login_as(norm.author)
    response = client.post(show_url(norm) + "/edit", data=edit_form(norm, title="New"))
    assert response.status_code == 400
    assert "Say in a sentence what changed" in response.get_data(as_text=True)
    response = client.post(
        show_url(norm) + "/edit", data=edit_form(norm, title="New", change_summary="c" * 501)
    )
    assert response.status_code == 400
    assert "Change summary must be at most 500 characters." in response.get_data(as_text=True)
    response = client.post(show_url(norm) + "/edit", data=edit_form(norm, body="b" * 100_001))
    assert response.status_code == 400
    assert "The essay must be at most 100000 characters." in response.get_data(as_text=True)
    session.expire_all()
    assert norm.current_version_number == 1


# --- the norm page and status changes ------------------------------------------


def test_norm_page_shows_the_norm(factory, session, client):
    community = factory.community()
    norm = factory.norm(community, body="Intro paragraph.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    html = client.get(show_url(norm)).get_data(as_text=True)
    assert '<h1 id="norm-title">Quote statistics with their denominators</h1>' in html
    assert "Open for discussion" in html
    assert norm.author.display_name in html
    assert "statistics" in html and "evidence" in html
    essay = re.search(r'id="essay".*?</section>\s*<div id="essay-end"', html, re.S)
    assert essay and "<table>" in essay.group(0)
    assert "v1 ·" in html and "material" in html
    assert html.index("Most readers cannot check") < html.index("Cherry-picked figures")
    assert "/versions" in html
    assert "Log in to respond" in html
    # No edit or status buttons for anonymous readers.
    assert "/edit" not in html and 'name="to_status"' not in html


def test_norm_page_by_numeric_id(factory, client):
    community = factory.community()
    norm = factory.norm(community)
    assert client.get(f"/c/{community.slug}/norms/{norm.id}").status_code == 200
    assert client.get(f"/c/{community.slug}/norms/no-such-norm").status_code == 404


def test_author_changes_status_and_reader_cannot(factory, session, client, login_as):
    community = factory.community()
    norm = factory.norm(community, status="draft")
    reader = factory.member(community)
    login_as(reader)
    response = client.post(
        show_url(norm) + "/status", data={"to_status": "open"}, follow_redirects=True
    )
    assert "You may not make this change" in response.get_data(as_text=True)
    session.expire_all()
    assert norm.status == "draft"
    client.post("/logout")
    login_as(norm.author)
    page = client.get(show_url(norm)).get_data(as_text=True)
    assert 'value="open"' in page and "Withdraw" in page
    response = client.post(show_url(norm) + "/status", data={"to_status": "open"})
    assert response.status_code == 302
    session.expire_all()
    assert norm.status == "open"
    response = client.post(
        show_url(norm) + "/status", data={"to_status": "nonsense"}, follow_redirects=True
    )
    assert "cannot move to" in response.get_data(as_text=True)


def test_anonymous_status_change_goes_to_login(factory, session, client):
    community = factory.community()
    norm = factory.norm(community, status="draft")
    response = client.post(show_url(norm) + "/status", data={"to_status": "open"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    session.expire_all()
    assert norm.status == "draft"


def test_builds_on_is_set_through_the_forms(factory, session, client, login_as):
    community = factory.community()
    author = factory.member(community)
    base = factory.norm(community, author, title="Cite your sources")
    login_as(author)
    response = client.post(
        f"/c/{community.slug}/norms/new", data=norm_form(prerequisites="no-such-norm")
    )
    assert response.status_code == 400
    assert "There is no norm “no-such-norm” in this community." in response.get_data(as_text=True)
    response = client.post(
        f"/c/{community.slug}/norms/new", data=norm_form(prerequisites=base.slug)
    )
    assert response.status_code == 302
    norm = session.scalar(select(Norm).where(Norm.title == "Say who decided"))
    html = client.get(show_url(norm)).get_data(as_text=True)
    assert "Builds on" in html and "Cite your sources" in html
    # The edit form names it as people know it: by its title.
    assert 'value="Cite your sources"' in client.get(show_url(norm) + "/edit").get_data(
        as_text=True
    )
    response = client.post(show_url(base) + "/edit", data=edit_form(base, prerequisites=norm.slug))
    assert response.status_code == 400
    assert "go in a circle" in response.get_data(as_text=True)
    response = client.post(show_url(norm) + "/edit", data=edit_form(norm, prerequisites=""))
    assert response.status_code == 302
    assert "Builds on" not in client.get(show_url(norm)).get_data(as_text=True)


def test_prerequisites_are_listed(factory, session, client):
    community = factory.community()
    base = factory.norm(community, title="Cite your sources")
    norm = factory.norm(community)
    session.add(NormPrerequisite(norm_id=norm.id, prerequisite_id=base.id))
    session.commit()
    html = client.get(show_url(norm)).get_data(as_text=True)
    assert "Builds on" in html and "Cite your sources" in html
    assert "Builds on" not in client.get(show_url(base)).get_data(as_text=True)


def test_a_prerequisite_in_a_members_only_community_shows_only_to_who_may_see_it(
    factory, session, app
):
    """The page's list of what a norm builds on keeps to communities the viewer can see,
    for visitors, members, members elsewhere and site admins alike."""
    public = factory.community()
    private = factory.community(visibility="members", join_policy="invite")
    base = factory.norm(private, title="Kept among ourselves")
    norm = factory.norm(public, title="Open to all")
    session.add(NormPrerequisite(norm_id=norm.id, prerequisite_id=base.id))
    session.commit()
    insider = factory.member(private, name="Insider")
    outsider = factory.member(public, name="Outsider")
    admin = factory.user("Site admin", admin=True)

    def sees_base(user) -> bool:
        client = app.test_client()
        if user is not None:
            login(client, user)
        return "Kept among ourselves" in client.get(show_url(norm)).get_data(as_text=True)

    assert [sees_base(user) for user in (None, outsider, insider, admin)] == [
        False,
        False,
        True,
        True,
    ]
