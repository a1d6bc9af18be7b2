"""Null bytes, control characters and text-direction controls in what people submit.

A NUL is stored by SQLite and refused by PostgreSQL (a 500), and no control
character is anything a person typed: every form refuses them with a message
next to the field, and every service refuses them for callers without a form.
Names, titles and tags lose the invisible characters that reverse text.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
import wtforms
from flask import render_template_string
from markupsafe import Markup
from sqlalchemy import func, select

import normhub
from normhub.accounts.models import User
from normhub.accounts.services import register_user, update_profile
from normhub.api.models import ApiToken
from normhub.api.services import create_token
from normhub.communities.models import Community
from normhub.communities.services import create_community
from normhub.discussion.models import Comment
from normhub.discussion.services import post_comment
from normhub.errors import ValidationFailed
from normhub.forms import Form, PlainText, Subform
from normhub.norms.diff import inline_diff
from normhub.norms.models import Norm
from normhub.norms.services import AssumptionInput, change_status, create_norm
from normhub.responses.models import Response
from normhub.responses.services import record_response
from normhub.text import control_character_problem, with_direction_closed, without_bidi_controls
from tests.test_communities import _settings
from tests.test_norms_pages import edit_form, norm_form
from tests.test_responses_pages import answer_form

NUL = "\x00"
ONE_LINE_MESSAGE = "must be one line of plain text"
MULTI_LINE_MESSAGE = "contains an invisible control character"
RLO = "\u202e"  # right-to-left override: "evil\u202etxt.exe" reads "evilexe.txt"
PDF, RLI, LRI, PDI = "\u202c", "\u2067", "\u2066", "\u2069"


def count(session, model) -> int:
    session.commit()
    return session.scalar(select(func.count()).select_from(model))


# --- the rules ----------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9f"])
def test_control_characters_are_refused_everywhere(char):
    assert control_character_problem(f"a{char}b", "Name", multiline=False)
    assert control_character_problem(f"a{char}b", "Essay", multiline=True)


def test_tab_and_line_breaks_only_in_multi_line_text():
    for char in ("\t", "\n", "\r"):
        assert control_character_problem(f"a{char}b", "Essay", multiline=True) is None
        assert ONE_LINE_MESSAGE in control_character_problem(f"a{char}b", "Name", False)
    assert control_character_problem("Zoë — ½ ✓ שלום", "Name", multiline=False) is None


def test_bidi_controls_are_removed():
    text = "\u202aa\u202bb\u202cc\u202dd\u202ee\u2066f\u2067g\u2068h\u2069i\u200ej\u200fk"
    assert without_bidi_controls(text) == "abcdefghijk"
    # Hebrew and Arabic letters themselves stay.
    assert without_bidi_controls("שלום سلام") == "שלום سلام"


def test_direction_controls_left_open_are_closed_where_text_is_shown():
    assert with_direction_closed("plain שלום \u200f") == "plain שלום \u200f"
    assert with_direction_closed(f"a{RLO}b") == f"a{RLO}b{PDF}"
    assert with_direction_closed(f"{RLI}a{RLO}b") == f"{RLI}a{RLO}b{PDF}{PDI}"
    # Closed already: nothing added. A PDI closes the embeddings inside its isolate.
    assert with_direction_closed(f"{RLO}a{PDF}") == f"{RLO}a{PDF}"
    assert with_direction_closed(f"{LRI}{RLO}a{PDI}b") == f"{LRI}{RLO}a{PDI}b"
    # A PDF cannot close an isolate, nor a PDI an embedding outside any isolate.
    assert with_direction_closed(f"{RLI}a{PDF}") == f"{RLI}a{PDF}{PDI}"
    assert with_direction_closed(f"{RLO}a{PDI}") == f"{RLO}a{PDI}{PDF}"


def test_what_a_template_prints_closes_what_it_opens(app):
    """So a note cannot turn the page's own words after it around; Markup (Markdown,
    diffs, snippets) closes its own pieces."""
    with app.app_context():
        page = render_template_string(
            "<p>Their note: “{{ note }}” — {{ count }} {{ markup }}</p>",
            note=f"{RLO}x",
            count=3,
            markup=Markup(f"<b>{RLO}</b>"),  # noqa: S704 (markup the test wrote)
        )
    assert page == f"<p>Their note: “{RLO}x{PDF}” — 3 <b>{RLO}</b></p>"
    removed = inline_diff(f"keep {RLO}old words", "keep new words")
    assert f"<del>{RLO}old{PDF}</del><ins>new</ins>" in removed


def _form_classes():
    for info in pkgutil.walk_packages(normhub.__path__, "normhub."):
        if info.name.endswith(".forms"):
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, wtforms.Form) and cls.__module__ == module.__name__:
                    yield cls


def test_every_form_is_built_on_the_shared_base():
    classes = list(_form_classes())
    assert len(classes) >= 12
    assert [c.__name__ for c in classes if not issubclass(c, Form | Subform)] == []


def test_every_text_field_gets_the_validator(app):
    with app.test_request_context():
        for cls in _form_classes():
            form = cls(formdata=None) if issubclass(cls, Form) else cls()
            for field in form:
                kinds = [v for v in field.validators if isinstance(v, PlainText)]
                if isinstance(field, wtforms.PasswordField) or not isinstance(
                    field, wtforms.StringField
                ):
                    assert kinds == [], (cls.__name__, field.name)
                else:
                    assert len(kinds) == 1, (cls.__name__, field.name)
                    assert kinds[0].multiline == isinstance(field, wtforms.TextAreaField)


# --- accounts -----------------------------------------------------------------------


def test_register_and_login_refuse_nul(client, session):
    response = client.post(
        "/register",
        data={
            "email": "nul@example.org",
            "display_name": f"Nul{NUL}Person",
            "password": "long enough password",
            "confirm": "long enough password",
        },
    )
    assert response.status_code == 400
    assert f"Display name {ONE_LINE_MESSAGE}" in response.get_data(as_text=True)
    assert count(session, User) == 0
    response = client.post("/login", data={"email": f"a{NUL}@example.org", "password": "x" * 12})
    assert response.status_code == 400
    assert f"Email {ONE_LINE_MESSAGE}" in response.get_data(as_text=True)


def test_profile_refuses_control_characters_and_keeps_line_breaks(
    client, factory, login_as, session
):
    user = factory.user("Plain Name")
    login_as(user)
    data = {"display_name": f"Plain{NUL}", "bio": "fine"}
    response = client.post("/settings", data=data)
    assert response.status_code == 400
    assert f"Display name {ONE_LINE_MESSAGE}" in response.get_data(as_text=True)
    response = client.post("/settings", data={"display_name": "Plain", "bio": f"a{NUL}b"})
    assert response.status_code == 400
    assert f"About you {MULTI_LINE_MESSAGE}" in response.get_data(as_text=True)
    response = client.post(
        "/settings", data={"display_name": f"Plain{RLO}Name", "bio": "one\r\n\ttwo"}
    )
    assert response.status_code == 302
    session.commit()
    row = session.get(User, user.id, populate_existing=True)
    assert (row.display_name, row.bio) == ("PlainName", "one\r\n\ttwo")


def test_account_services_refuse_control_characters(session, factory):
    with pytest.raises(ValidationFailed) as refused:
        register_user(session, "x@example.org", f"X{NUL}", "long enough password")
    assert refused.value.field == "display_name"
    with pytest.raises(ValidationFailed) as refused:
        register_user(session, f"x{NUL}@example.org", "X", "long enough password")
    assert refused.value.field == "email"
    user = factory.user()
    with pytest.raises(ValidationFailed) as refused:
        update_profile(session, user, "Name", f"bio{NUL}")
    assert refused.value.field == "bio"


# --- communities ----------------------------------------------------------------------


def test_community_forms_refuse_control_characters(client, factory, login_as, session):
    owner = factory.user()
    login_as(owner)
    data = {"name": f"Night{NUL}", "slug": "", "visibility": "public", "join_policy": "open"}
    response = client.post("/communities/new", data=data)
    assert response.status_code == 400
    assert f"Name {ONE_LINE_MESSAGE}" in response.get_data(as_text=True)
    data = {**data, "name": "Night", "slug": "night\n"}
    response = client.post("/communities/new", data=data)
    assert response.status_code == 400
    assert count(session, Community) == 0
    data = {**data, "slug": "", "name": f"Night {RLO}shift", "description": f"a{NUL}"}
    response = client.post("/communities/new", data=data)
    assert response.status_code == 400
    assert f"Description {MULTI_LINE_MESSAGE}" in response.get_data(as_text=True)
    response = client.post("/communities/new", data={**data, "description": "For\tnights\n"})
    assert response.status_code == 302
    community = session.scalar(select(Community))
    assert community.name == "Night shift"

    for changes, message in (
        ({"name": f"Renamed{NUL}"}, f"Name {ONE_LINE_MESSAGE}"),
        ({"name": "Renamed\nagain"}, f"Name {ONE_LINE_MESSAGE}"),
        ({"description": f"About{NUL}"}, f"Description {MULTI_LINE_MESSAGE}"),
    ):
        response = client.post(
            f"/c/{community.slug}/settings", data=_settings(community, **changes)
        )
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Community, community.id).name == "Night shift"


def test_community_service_refuses_control_characters(session, factory):
    owner = factory.user()
    with pytest.raises(ValidationFailed) as refused:
        create_community(session, owner, f"Name{NUL}")
    assert refused.value.field == "name"
    with pytest.raises(ValidationFailed) as refused:
        create_community(session, owner, "Name", description=f"d{NUL}")
    assert refused.value.field == "description"
    with pytest.raises(ValidationFailed) as refused:
        create_community(session, owner, "Name", slug="name\n")
    assert refused.value.field == "slug"


# --- norms ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", f"Say{NUL}who", f"Title {ONE_LINE_MESSAGE}"),
        ("title", "Say\twho", f"Title {ONE_LINE_MESSAGE}"),
        ("summary", f"Every{NUL}", f"Summary {MULTI_LINE_MESSAGE}"),
        ("body", "## Why\x07", f"Essay (Markdown) {MULTI_LINE_MESSAGE}"),
        ("tags", f"decisions, tr{NUL}ust", f"Tags (comma separated) {ONE_LINE_MESSAGE}"),
        ("prerequisites", f"other{NUL}", f"Builds on (optional) {ONE_LINE_MESSAGE}"),
        ("assumptions-0-statement", "People\nwant", f"Statement {ONE_LINE_MESSAGE}"),
        ("assumptions-2-explanation", f"Most{NUL}", f"Explanation (optional) {MULTI_LINE_MESSAGE}"),
    ],
)
def test_norm_form_refuses_control_characters(
    client, factory, login_as, session, field, value, message
):
    community = factory.community()
    login_as(factory.member(community))
    response = client.post(f"/c/{community.slug}/norms/new", data=norm_form(**{field: value}))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(session, Norm) == 0


def test_titles_and_tags_lose_direction_controls(client, factory, login_as, session):
    community = factory.community()
    login_as(factory.member(community))
    data = norm_form(title=f"Say who {RLO}decided\u200f", tags=f"deci{RLO}sions, \u2066trust\u2069")
    data["body"] = "Right-to-left text keeps its marks: \u200fשלום\u200f"
    response = client.post(f"/c/{community.slug}/norms/new", data=data)
    assert response.status_code == 302
    norm = session.scalar(select(Norm))
    assert norm.title == "Say who decided"
    assert sorted(norm.tag_names) == ["decisions", "trust"]
    assert "\u200fשלום\u200f" in norm.current_version.body


def test_norm_edit_refuses_control_characters_in_what_changed(client, factory, login_as, session):
    community = factory.community()
    norm = factory.norm(community)
    login_as(norm.author)
    data = edit_form(norm, title="Another title", change_summary=f"Retitled{NUL}")
    response = client.post(f"/c/{community.slug}/norms/{norm.slug}/edit", data=data)
    assert response.status_code == 400
    assert f"What changed, in a sentence {ONE_LINE_MESSAGE}" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Norm, norm.id).current_version_number == 1


def test_norm_services_refuse_control_characters(session, factory):
    community = factory.community()
    author = factory.member(community)
    for changes, field in (
        ({"title": f"T{NUL}"}, "title"),
        ({"body": f"B{NUL}"}, "body"),
        ({"assumptions": [AssumptionInput(f"S{NUL}")]}, "assumptions"),
        ({"assumptions": [AssumptionInput("S", f"E{NUL}")]}, "assumptions"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            create_norm(session, community, author, factory.draft(**changes))
        assert refused.value.field == field
        session.rollback()
    norm = factory.norm(community, author, status="draft")
    with pytest.raises(ValidationFailed):
        change_status(session, norm, author, "open", note=f"Ready{NUL}")


# --- discussion, responses, tokens ---------------------------------------------------


def test_comments_refuse_control_characters_and_keep_line_breaks(
    client, factory, login_as, session
):
    community = factory.community()
    norm = factory.norm(community)
    login_as(norm.author)
    url = f"/c/{community.slug}/norms/{norm.slug}/comments"
    response = client.post(url, data={"body": f"I object{NUL}"})
    assert response.status_code == 422  # what the comment form answers to any refusal
    assert f"Your comment (Markdown) {MULTI_LINE_MESSAGE}" in response.get_data(as_text=True)
    assert count(session, Comment) == 0
    assert client.post(url, data={"body": "Two\n\tlines\r\n"}).status_code == 302
    comment = session.scalar(select(Comment))
    assert comment.body == "Two\n\tlines"
    edit = f"/c/{community.slug}/comments/{comment.id}/edit"
    response = client.post(edit, data={"body": f"Edited{NUL}"})
    assert response.status_code == 422
    assert MULTI_LINE_MESSAGE in response.get_data(as_text=True)
    with pytest.raises(ValidationFailed):
        post_comment(session, norm, norm.author, f"Service{NUL}")


def test_responses_refuse_control_characters(client, factory, login_as, session):
    community = factory.community()
    norm = factory.norm(community)
    reader = factory.member(community)
    login_as(reader)
    url = f"/c/{community.slug}/norms/{norm.slug}/respond"
    response = client.post(url, data=answer_form(norm, reason=f"Because{NUL}"))
    assert response.status_code == 400
    assert f"Why? (optional) {MULTI_LINE_MESSAGE}" in response.get_data(as_text=True)
    rows = {0: ("yes", "agree", f"Row{NUL}")}
    response = client.post(url, data=answer_form(norm, rows=rows))
    assert response.status_code == 400
    assert MULTI_LINE_MESSAGE in response.get_data(as_text=True)
    assert count(session, Response) == 0
    with pytest.raises(ValidationFailed):
        record_response(session, norm, reader, "yes", "endorse", f"Because{NUL}")


def test_token_names_refuse_control_characters(client, factory, login_as, session):
    user = factory.user()
    login_as(user)
    response = client.post("/settings/tokens", data={"name": f"laptop{NUL}"})
    assert response.status_code == 400
    assert f"Token name {ONE_LINE_MESSAGE}" in response.get_data(as_text=True)
    assert count(session, ApiToken) == 0
    token, _ = create_token(session, user, f"lap{RLO}top")
    assert token.name == "laptop"
    with pytest.raises(ValidationFailed):
        create_token(session, user, "lap\ntop")
