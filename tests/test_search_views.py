"""The search page and GET /api/v1/search through the Flask test client."""

from __future__ import annotations

import pytest

from tests.search_helpers import add_comment


@pytest.fixture
def content(factory, session):
    public = factory.community()
    private = factory.community(visibility="members", join_policy="invite")
    author = factory.member(public, name="Pat Writer")
    norm = factory.norm(
        public,
        author,
        title="Share meeting notes within a day",
        summary="Notes that arrive late are never read.",
        body="Send the <notes> & decisions the same day.",
        tags=["meetings"],
    )
    secret = factory.norm(private, title="Secret meeting rota", tags=["meetings", "rota"])
    insider = factory.member(private, name="Insider")
    comment = add_comment(session, norm, author, "Meeting notes should list owners.")
    return public, private, norm, secret, insider, comment


def test_every_page_links_the_search_box(client, content):
    page = client.get("/").get_data(as_text=True)
    assert 'action="/search"' in page or 'action="http://normhub.test/search"' in page


def test_results_page_lists_hits_with_links_snippets_and_facets(client, content):
    public, _, norm, _, _, comment = content
    response = client.get("/search?q=meeting")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "2 results" in page
    assert f'href="/c/{public.slug}/norms/{norm.slug}"' in page
    assert f'href="/c/{public.slug}/comments/{comment.id}"' in page
    assert "<mark>" in page
    assert "Secret meeting rota" not in page
    assert "rota" not in page  # not even as a tag facet
    assert 'class="search-facets"' in page
    assert "Open for discussion" in page


def test_snippet_html_from_users_is_escaped_on_the_page(client, content):
    page = client.get("/search?q=decisions").get_data(as_text=True)
    assert "&lt;notes&gt; &amp; <mark>decisions</mark>" in page
    assert "<notes>" not in page


def test_member_sees_private_hits_on_the_page(client, login_as, content):
    _, private, _, secret, insider, _ = content
    login_as(insider)
    page = client.get("/search?q=meeting").get_data(as_text=True)
    assert "3 results" in page
    assert secret.title in page
    assert f'href="/c/{private.slug}/norms/{secret.slug}"' in page


def test_facet_links_filter_results(client, content):
    public, _, norm, _, _, _ = content
    page = client.get("/search?q=meeting&type=norm").get_data(as_text=True)
    assert "1 result" in page
    assert "Remove filter type norm" in page
    page = client.get(f"/search?q=meeting&community={public.slug}&tag=meetings").get_data(
        as_text=True
    )
    assert "1 result" in page and norm.title in page


def test_did_you_mean_link(client, content):
    page = client.get("/search?q=meetnig").get_data(as_text=True)
    assert "Did you mean" in page
    assert "q=meeting" in page


@pytest.mark.parametrize(
    "query",
    ["", '"open', "AND", "foo:bar", "x" * 10_000, "%00%00", "!!!", "((", "tag:", "NOT"],
)
def test_bad_queries_render_friendly_pages(client, content, query):
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    assert "Search" in response.get_data(as_text=True)


def test_empty_and_wordless_queries_explain(client, content):
    assert "Type a few words" in client.get("/search").get_data(as_text=True)
    assert "no words to search" in client.get("/search?q=%21%21%21").get_data(as_text=True)
    long = client.get("/search", query_string={"q": "meeting " * 1500}).get_data(as_text=True)
    assert "first 500 characters" in long


def test_pagination_links(client, factory, monkeypatch):
    from normhub.search import views

    community = factory.community()
    for n in range(3):
        factory.norm(community, title=f"Paging norm {n}")
    monkeypatch.setattr(views, "PER_PAGE", 2)
    first = client.get("/search?q=paging").get_data(as_text=True)
    assert "Page 1 of 2" in first and "page=2" in first
    second = client.get("/search?q=paging&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second


def test_json_api_for_anonymous(client, content):
    public, _, norm, _, _, comment = content
    response = client.get("/api/v1/search?q=meeting")
    assert response.status_code == 200
    data = response.get_json()
    assert data["total"] == 2 and data["total_estimated"] is False
    assert data["page"] == 1 and data["pages"] == 1
    assert {r["type"] for r in data["results"]} == {"norm", "comment"}
    norm_result = next(r for r in data["results"] if r["type"] == "norm")
    assert norm_result["url"] == f"/c/{public.slug}/norms/{norm.slug}"
    assert norm_result["status"] == "open"
    assert norm_result["tags"] == ["meetings"]
    comment_result = next(r for r in data["results"] if r["type"] == "comment")
    assert comment_result["comment_id"] == comment.id
    assert "<mark>" in comment_result["snippet_html"]
    facets = {
        name: {v["key"]: v["count"] for v in values} for name, values in data["facets"].items()
    }
    assert facets["tag"] == {"meetings": 1}
    assert facets["community"] == {public.slug: 2}
    assert data["suggestion"] is None


def test_json_api_for_a_member_and_suggestions(client, login_as, content):
    _, private, _, _, insider, _ = content
    login_as(insider)
    data = client.get("/api/v1/search?q=meeting").get_json()
    assert data["total"] == 3
    assert {v["key"]: v["count"] for v in data["facets"]["community"]}[private.slug] == 1
    assert client.get("/api/v1/search?q=meetnig").get_json()["suggestion"] == "meeting"


def test_json_api_bad_query_text_is_not_an_error(client, content):
    response = client.get("/api/v1/search", query_string={"q": '"' + "(" * 600})
    assert response.status_code == 200
    data = response.get_json()
    assert data["page"] == 1
    assert data["notices"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("page", "0"),
        ("page", "-1"),
        ("page", "abc"),
        ("page", ""),
        ("page", "1.5"),
        ("page", "²"),
        ("page", "10001"),
        ("page", "9" * 30),
        ("per_page", "0"),
        ("per_page", "101"),
        ("per_page", "-5"),
        ("per_page", "ten"),
    ],
)
def test_json_api_refuses_pages_outside_the_schema(client, content, name, value):
    response = client.get("/api/v1/search", query_string={"q": "meeting", name: value})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400
    assert f"“{name}” must be a whole number from 1 to" in error["message"]


def test_json_api_pages_within_the_schema(client, content):
    data = client.get("/api/v1/search?q=meeting&page=2&per_page=1").get_json()
    assert (data["page"], data["per_page"], data["pages"], data["total"]) == (2, 1, 2, 2)
    assert len(data["results"]) == 1
    first = client.get("/api/v1/search?q=meeting&per_page=1").get_json()
    assert first["results"][0]["url"] != data["results"][0]["url"]
    data = client.get("/api/v1/search?q=meeting&page=10000&per_page=100").get_json()
    assert data["results"] == [] and data["total"] == 2


def test_the_search_page_forgives_odd_page_numbers(client, content):
    for value in ("0", "-1", "abc", "99999999"):
        response = client.get(f"/search?q=meeting&page={value}")
        assert response.status_code == 200


def test_json_api_matches_its_openapi_schema(client, content):
    import json

    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    from normhub.api.views import OPENAPI_FILE

    spec = json.loads(OPENAPI_FILE.read_text())
    assert "/api/v1/search" in spec["paths"]
    registry = Registry().with_resource(
        "urn:openapi", Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator(
        {"$ref": "urn:openapi#/components/schemas/SearchResults"}, registry=registry
    )
    for query in ("meeting", "meetnig", "", "tag:meetings"):
        validator.validate(client.get("/api/v1/search", query_string={"q": query}).get_json())
