"""Version list, single versions and diffs through the web pages."""

import pytest

from normhub.norms.services import AssumptionInput, revise_norm


@pytest.fixture
def three_versions(factory, session):
    """v1 by the author; v2 minor (reword + swap); v3 material by a steward."""
    community = factory.community()
    norm = factory.norm(community)
    first, second = norm.current_version.assumptions
    revise_norm(
        session,
        norm,
        norm.author,
        factory.draft(
            assumptions=[
                AssumptionInput(second.statement, second.explanation, key=second.key),
                AssumptionInput("Most readers cannot check the base of a number.", key=first.key),
            ]
        ),
        "Swapped the assumptions; plainer wording.",
        False,
    )
    steward = factory.member(community, role="steward", name="Stella Steward")
    revise_norm(
        session,
        norm,
        steward,
        factory.draft(
            title="Quote statistics with their base",
            body="## Why\n\nA number without its base invites cherry-picking.\n\n"
            "## What we ask\n\nName the base and link the source.",
            assumptions=[
                AssumptionInput("Most readers cannot check the base of a number.", key=first.key),
                AssumptionInput("Links to sources are cheap to add."),
            ],
        ),
        "Ask for a link too; dropped the claim about lasting harm.",
        True,
    )
    session.commit()
    return norm


def base_url(norm):
    return f"/c/{norm.community.slug}/norms/{norm.slug}"


def test_versions_list(three_versions, client):
    html = client.get(base_url(three_versions) + "/versions").get_data(as_text=True)
    assert html.index(">v3<") < html.index(">v2<") < html.index(">v1<")
    assert "Stella Steward" in html
    assert "Swapped the assumptions; plainer wording." in html
    assert "First version." in html
    assert html.count('class="badge material"') == 2
    assert html.count('class="badge minor"') == 1
    assert "diff?from=2&amp;to=3" in html


def test_each_version_renders_its_own_text(three_versions, client):
    url = base_url(three_versions)
    v1 = client.get(url + "/v/1")
    assert v1.status_code == 200
    v1_html = v1.get_data(as_text=True)
    assert "This is version 1, not the current text." in v1_html
    assert "Quote statistics with their denominators" in v1_html
    assert "Cherry-picked figures" in v1_html
    v2_html = client.get(url + "/v/2").get_data(as_text=True)
    assert v2_html.index("Cherry-picked figures") < v2_html.index("Most readers cannot check")
    v3_html = client.get(url + "/v/3").get_data(as_text=True)
    assert "not the current text" not in v3_html
    assert "Links to sources are cheap to add." in v3_html
    assert "Cherry-picked" not in v3_html
    assert client.get(url + "/v/4").status_code == 404
    assert client.get(url + "/v/0").status_code == 404


def test_default_diff_is_previous_against_current(three_versions, client):
    html = client.get(base_url(three_versions) + "/diff").get_data(as_text=True)
    assert "What changed from v2 to v3" in html
    assert "<del>denominators</del><ins>base</ins>" in html
    assert "<ins>link </ins>the source" in html
    assert "Added as #2" in html and "Links to sources are cheap to add." in html
    assert "Removed (was #1)" in html and "Cherry-picked figures" in html


def test_diff_reports_reworded_and_moved(three_versions, client):
    html = client.get(base_url(three_versions) + "/diff?from=1&to=2").get_data(as_text=True)
    assert "Reworded" in html
    assert "Moved from #" in html
    assert "<del>" in html and "<ins>" in html
    assert "Added as" not in html and "Removed (was" not in html
    # Title and essay are the same in v1 and v2: no text sections for them.
    assert "<h2>Essay</h2>" not in html and "<h2>Title</h2>" not in html


def test_reverse_diff_is_allowed(three_versions, client):
    response = client.get(base_url(three_versions) + "/diff?from=3&to=1")
    assert response.status_code == 200
    assert "What changed from v3 to v1" in response.get_data(as_text=True)


def test_bad_diff_requests_are_friendly(three_versions, factory, client):
    url = base_url(three_versions) + "/diff"
    same = client.get(url + "?from=2&to=2")
    assert same.status_code == 400
    assert "Pick two different versions" in same.get_data(as_text=True)
    bad = client.get(url + "?from=abc&to=2")
    assert bad.status_code == 400
    assert "must be a version number" in bad.get_data(as_text=True)
    assert client.get(url + "?from=1&to=9").status_code == 404
    assert client.get(url + "?from=1&to=0").status_code == 404
    assert client.get(url + "?from=-1&to=2").status_code == 400
    single = factory.norm(three_versions.community, title="Only one version")
    first_only = client.get(base_url(single) + "/diff")
    assert first_only.status_code == 404
    assert "nothing earlier to compare" in first_only.get_data(as_text=True)


def test_norm_page_links_to_versions_and_previous_diff(three_versions, client):
    html = client.get(base_url(three_versions)).get_data(as_text=True)
    assert "v3 ·" in html
    assert "What changed since v2" in html
    assert "diff?from=2&amp;to=3" in html
    assert "Ask for a link too" in html
