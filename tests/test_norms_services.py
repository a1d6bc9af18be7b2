"""Norm services: permissions, versions, the material flag, tags-only edits."""

import pytest

from normhub.errors import Forbidden, NotFound, ValidationFailed
from normhub.norms.prerequisites import resolve_norm_refs
from normhub.norms.services import (
    AssumptionInput,
    allowed_transitions,
    can_edit,
    change_status,
    create_norm,
    get_version,
    list_prerequisites,
    list_versions,
    revise_norm,
    set_prerequisites,
)


def test_non_member_cannot_create(factory, session):
    community = factory.community()
    outsider = factory.user()
    with pytest.raises(Forbidden):
        create_norm(session, community, outsider, factory.draft())


def test_only_author_or_steward_can_edit(factory, session):
    community = factory.community()
    author = factory.member(community)
    norm = factory.norm(community, author)
    other = factory.member(community)
    steward = factory.member(community, role="steward")
    assert can_edit(session, norm, author)
    assert can_edit(session, norm, steward)
    assert not can_edit(session, norm, other)
    assert not can_edit(session, norm, None)
    with pytest.raises(Forbidden):
        revise_norm(session, norm, other, factory.draft(title="Hijacked"), "mine now", True)


def test_material_and_minor_versions(factory, session):
    community = factory.community()
    norm = factory.norm(community)
    v2 = revise_norm(
        session, norm, norm.author, factory.draft(title="A clearer title"), "Title", False
    )
    session.commit()
    assert (v2.number, v2.is_material) == (2, False)
    assert norm.current_version_number == 2
    assert norm.last_material_version_number == 1
    assert norm.title == "A clearer title"
    v3 = revise_norm(
        session, norm, norm.author, factory.draft(summary="A different ask."), "Scope", True
    )
    session.commit()
    assert v3.is_material and norm.last_material_version_number == 3
    assert [v.number for v in list_versions(session, norm)] == [3, 2, 1]
    assert get_version(session, norm, 2).title == "A clearer title"
    with pytest.raises(NotFound):
        get_version(session, norm, 9)


def test_tags_only_edit_makes_no_version(factory, session):
    community = factory.community()
    norm = factory.norm(community)
    same_assumptions = [
        AssumptionInput(a.statement, a.explanation, key=a.key)
        for a in norm.current_version.assumptions
    ]
    draft = factory.draft(tags=["meetings", "Evidence"], assumptions=same_assumptions)
    result = revise_norm(session, norm, norm.author, draft, "", True)
    session.commit()
    assert result is None
    assert norm.current_version_number == 1
    assert norm.tag_names == ["evidence", "meetings"]


def test_text_change_needs_change_summary(factory, session):
    community = factory.community()
    norm = factory.norm(community)
    with pytest.raises(ValidationFailed) as caught:
        revise_norm(session, norm, norm.author, factory.draft(title="Other"), "  ", True)
    assert caught.value.field == "change_summary"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 161}, "title"),
        ({"assumptions": [AssumptionInput(""), AssumptionInput("  ")]}, "assumptions"),
        ({"assumptions": [AssumptionInput("y" * 301)]}, "assumptions"),
        ({"tags": ["no spaces!"]}, "tags"),
    ],
)
def test_validation_names_the_field(factory, session, changes, field):
    community = factory.community()
    author = factory.member(community)
    with pytest.raises(ValidationFailed) as caught:
        create_norm(session, community, author, factory.draft(**changes))
    assert caught.value.field == field


def test_status_transitions_by_role(factory, session):
    community = factory.community()
    author = factory.member(community)
    norm = factory.norm(community, author, status="draft")
    reader = factory.member(community)
    assert allowed_transitions(session, norm, author) == ["open", "withdrawn"]
    assert allowed_transitions(session, norm, reader) == []
    with pytest.raises(Forbidden):
        change_status(session, norm, reader, "open")
    change_status(session, norm, author, "open")
    assert norm.status == "open"
    assert "in_force" not in allowed_transitions(session, norm, author)


def test_prerequisites_are_checked(factory, session):
    community = factory.community()
    author = factory.member(community)
    base = factory.norm(community, author, title="Cite your sources")
    middle = factory.norm(community, author, title="Quote with denominators")
    top = factory.norm(community, author, title="Publish the data")
    assert resolve_norm_refs(session, community, f"{base.slug}, {base.id}") == [base]
    pasted = f"https://normhub.test/c/{community.slug}/norms/{base.slug}/"
    assert resolve_norm_refs(session, community, pasted) == [base]
    with pytest.raises(ValidationFailed) as caught:
        resolve_norm_refs(session, community, "no-such-norm")
    assert caught.value.field == "prerequisites"

    set_prerequisites(session, middle, author, [base])
    set_prerequisites(session, top, author, [middle])
    assert list_prerequisites(session, top) == [middle]
    with pytest.raises(ValidationFailed, match="circle"):
        set_prerequisites(session, base, author, [top])
    with pytest.raises(ValidationFailed, match="itself"):
        set_prerequisites(session, base, author, [base])
    elsewhere = factory.norm(factory.community(), title="Elsewhere")
    with pytest.raises(ValidationFailed, match="same community"):
        set_prerequisites(session, base, author, [elsewhere])
    with pytest.raises(Forbidden):
        set_prerequisites(session, top, factory.member(community), [base])
    set_prerequisites(session, top, author, [base])
    assert list_prerequisites(session, top) == [base]
