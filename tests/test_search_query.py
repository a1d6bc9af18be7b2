"""Search service: syntax, ranking, snippets, facets, pages, visibility, suggestions, bad input."""

from __future__ import annotations

import pytest

from normhub.search.services import MAX_QUERY_LENGTH, search
from tests.search_helpers import add_comment


def titles(result) -> set[str]:
    return {hit.title for hit in result.hits}


@pytest.fixture
def corpus(factory, session):
    """A small public community with varied norms and one comment."""
    community = factory.community()
    author = factory.member(community, name="Ada Lovelace")
    other = factory.member(community, name="Grace Hopper")
    norms = {
        "bikes": factory.norm(
            community,
            author,
            title="Lock bicycles inside the courtyard",
            summary="Bicycles left on the street get stolen.",
            body="Thieves check the street racks every night.",
            tags=["bikes", "safety"],
        ),
        "noise": factory.norm(
            community,
            other,
            title="Quiet hours after ten",
            summary="Keep noise down at night so neighbours can sleep.",
            body="Sleep matters; music and drilling wait until morning.",
            tags=["noise"],
            status="in_force",
        ),
        "bins": factory.norm(
            community,
            author,
            title="Sort recycling into the right bins",
            summary="Paper, glass and plastic each have a bin.",
            body="Mixed bins cost the building a sorting fee every month.",
            tags=["recycling", "safety"],
            status="draft",
        ),
    }
    comment = add_comment(
        session, norms["noise"], author, "Drilling on Sunday morning should also wait."
    )
    return community, norms, comment


def test_words_are_stemmed_and_title_matches_rank_first(session, corpus):
    _, norms, _ = corpus
    result = search(session, None, "bicycle")
    assert result.total == 1
    assert result.hits[0].title == norms["bikes"].title

    # "night" is in the bikes body and the noise summary; "sleep" only in noise.
    result = search(session, None, "quiet")
    assert result.hits[0].title == "Quiet hours after ten"


def test_title_boost_ranks_title_match_above_body_match(factory, session):
    community = factory.community()
    factory.norm(community, title="About gardens", body="Compost heaps belong at the back.")
    factory.norm(community, title="Compost rules", body="Keep it tidy.")
    result = search(session, None, "compost")
    assert [hit.title for hit in result.hits] == ["Compost rules", "About gardens"]


def test_phrases_and_boolean_operators(session, corpus):
    assert titles(search(session, None, '"sorting fee"')) == {"Sort recycling into the right bins"}
    assert search(session, None, '"fee sorting"').total == 0
    assert titles(search(session, None, "bicycles OR recycling")) == {
        "Lock bicycles inside the courtyard",
        "Sort recycling into the right bins",
    }
    assert search(session, None, "bicycles AND recycling").total == 0
    assert search(session, None, "bicycles recycling").total == 0  # words are ANDed
    night = search(session, None, "night")
    assert night.total == 2
    assert titles(search(session, None, "night NOT noise")) == {
        "Lock bicycles inside the courtyard"
    }
    assert titles(search(session, None, "night -noise")) == {"Lock bicycles inside the courtyard"}
    # Only an exclusion: everything visible except it.
    everything_but = search(session, None, "NOT noise")
    assert {(h.kind, h.title) for h in everything_but.hits} == {
        ("norm", "Lock bicycles inside the courtyard"),
        ("norm", "Sort recycling into the right bins"),
        ("comment", "Quiet hours after ten"),  # the comment itself never says "noise"
    }


def test_field_filters(session, corpus):
    _, norms, comment = corpus
    assert titles(search(session, None, "tag:safety")) == {
        "Lock bicycles inside the courtyard",
        "Sort recycling into the right bins",
    }
    assert titles(search(session, None, "Tags:NOISE")) == {"Quiet hours after ten"}
    for spelling in ("in-force", "in_force", "inforce", '"in force"', "In-Force"):
        assert titles(search(session, None, f"status:{spelling}")) == {"Quiet hours after ten"}
    assert titles(search(session, None, "status:draft")) == {"Sort recycling into the right bins"}
    assert search(session, None, "status:open").total == 1
    by_ada = search(session, None, "author:ada")
    assert by_ada.total == 3  # two norms and the comment
    assert search(session, None, 'author:"grace hopper"').total == 1
    community = corpus[0]
    assert search(session, None, f"community:{community.slug} tag:safety").total == 2
    assert search(session, None, f'community:"{community.name}" tag:noise').total == 1
    assert search(session, None, "community:nowhere tag:noise").total == 0
    comments = search(session, None, "type:comment drilling")
    assert [(h.kind, h.comment_id) for h in comments.hits] == [("comment", comment.id)]
    assert search(session, None, "title:quiet").total == 1
    assert search(session, None, "title:sleep").total == 0  # only in summary and body


def test_unknown_status_is_explained(session, corpus):
    result = search(session, None, "status:pending")
    assert result.total == 0
    assert any("Unknown status" in notice for notice in result.notices)


def test_unknown_field_is_read_as_words(session, corpus):
    # Read as "night drilling": only the noise norm has both words.
    result = search(session, None, "night:drilling")
    assert titles(result) == {"Quiet hours after ten"}
    assert not result.notices


def test_comment_hits_point_at_their_norm(session, corpus):
    _, norms, comment = corpus
    result = search(session, None, "sunday")
    assert result.total == 1
    hit = result.hits[0]
    assert hit.kind == "comment"
    assert hit.comment_id == comment.id
    assert hit.title == norms["noise"].title
    assert hit.norm_slug == norms["noise"].slug
    assert "<mark>Sunday</mark>" in str(hit.snippet)


def test_snippets_highlight_matches_with_mark(session, corpus):
    result = search(session, None, "thieves")
    assert str(result.hits[0].snippet).startswith("<mark>Thieves</mark> check the street racks")
    # Stemmed matches are highlighted too.
    stemmed = search(session, None, "thief OR steal OR stolen")
    assert "<mark>stolen</mark>" in str(stemmed.hits[0].snippet)


def test_hostile_text_is_escaped_in_snippets_and_titles(factory, session):
    community = factory.community()
    factory.norm(
        community,
        title='Escape <img src=x onerror="alert(1)">',
        summary="Plain summary.",
        body='Payload <script>alert("xss")</script> & friends <b>bold</b>',
    )
    result = search(session, None, "payload")
    snippet = str(result.hits[0].snippet)
    assert "<script>" not in snippet and "<b>" not in snippet
    assert "&lt;script&gt;" in snippet
    assert "&amp; friends" in snippet
    assert "<mark>Payload</mark>" in snippet


def test_facets_count_the_whole_result_set(session, corpus):
    community, _, _ = corpus
    result = search(session, None, "night OR bins OR drilling")
    assert result.total == 4
    facets = {name: {v.key: v.count for v in values} for name, values in result.facets.items()}
    assert facets["type"] == {"norm": 3, "comment": 1}
    assert facets["community"] == {community.slug: 4}
    assert facets["status"] == {"open": 1, "in_force": 1, "draft": 1}
    assert facets["tag"] == {"safety": 2, "bikes": 1, "noise": 1, "recycling": 1}


def test_facet_filters_narrow_results_and_counts(session, corpus):
    result = search(session, None, "night OR bins OR drilling", filters={"tag": "safety"})
    assert result.total == 2
    assert result.filters == {"tag": "safety"}
    assert {v.key: v.count for v in result.facets["status"]} == {"open": 1, "draft": 1}
    only_comments = search(session, None, "drilling", filters={"type": "comment"})
    assert only_comments.total == 1 and only_comments.hits[0].kind == "comment"
    in_force = search(session, None, "", filters={"status": "in-force"})
    assert titles(in_force) == {"Quiet hours after ten"}


def test_pagination(factory, session):
    community = factory.community()
    for n in range(7):
        factory.norm(community, title=f"Pagination sample {n}", tags=["paged"])
    seen = []
    for page in (1, 2, 3):
        result = search(session, None, "pagination", page=page, per_page=3)
        assert result.total == 7
        assert result.pages == 3
        seen.extend(hit.title for hit in result.hits)
    assert len(seen) == 7 and len(set(seen)) == 7
    last = search(session, None, "pagination", page=3, per_page=3)
    assert len(last.hits) == 1 and not last.has_next and last.has_previous
    beyond = search(session, None, "pagination", page=9, per_page=3)
    assert beyond.hits == [] and beyond.total == 7


@pytest.fixture
def split_communities(factory, session):
    public = factory.community()
    private = factory.community(visibility="members", join_policy="invite")
    public_norm = factory.norm(public, title="Zebra crossings in public", tags=["zebra"])
    secret_norm = factory.norm(private, title="Zebra secret plans", tags=["zebra", "secret"])
    insider = factory.member(private, name="Insider")
    add_comment(session, secret_norm, insider, "The zebra stays between us")
    outsider = factory.user("Outsider")
    return public, private, public_norm, secret_norm, insider, outsider


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_members_only_content_is_invisible_even_in_counts(session, split_communities, who):
    public, private, public_norm, _, _, outsider = split_communities
    viewer = outsider if who == "outsider" else None
    result = search(session, viewer, "zebra")
    assert result.total == 1
    assert titles(result) == {public_norm.title}
    facets = {name: {v.key: v.count for v in values} for name, values in result.facets.items()}
    assert facets["community"] == {public.slug: 1}
    assert "secret" not in facets["tag"]
    assert facets["tag"] == {"zebra": 1}
    assert facets["type"] == {"norm": 1}
    # Asking for the hidden community by name or filter reveals nothing either.
    assert search(session, viewer, f"community:{private.slug} zebra").total == 0
    assert search(session, viewer, "zebra", filters={"community": private.slug}).total == 0
    assert search(session, viewer, "secret").total == 0
    assert search(session, viewer, "tag:secret").suggestion is None


def test_members_see_their_private_community(session, split_communities):
    public, private, _, secret_norm, insider, _ = split_communities
    result = search(session, insider, "zebra")
    assert result.total == 3
    facets = {name: {v.key: v.count for v in values} for name, values in result.facets.items()}
    assert facets["community"] == {public.slug: 1, private.slug: 2}
    assert facets["tag"]["secret"] == 1
    assert secret_norm.title in titles(result)


def test_site_admins_see_everything(factory, session, split_communities):
    admin = factory.user("Site Admin", admin=True)
    assert search(session, admin, "zebra").total == 3


def test_former_members_lose_access(factory, session, split_communities):
    _, private, _, _, insider, _ = split_communities
    from normhub.communities.services import leave

    leave(session, private, insider)
    session.commit()
    assert search(session, insider, "zebra").total == 1


def test_did_you_mean_suggests_known_words(session, corpus):
    result = search(session, None, "bicyles")
    assert result.total == 0
    assert result.suggestion == "bicycles"
    result = search(session, None, "quiet nieghbours")
    assert result.suggestion == "quiet neighbours"
    assert search(session, None, "bicycles").suggestion is None
    # "thieves" is only in an essay body: known, so left alone; "lurk" is not.
    assert search(session, None, "thieves lurk").suggestion == "thieves lock"


def test_suggestions_leave_filters_and_operators_alone(session, corpus):
    result = search(session, None, "tag:nosie slepe OR bicycles")
    assert result.suggestion == "tag:nosie sleep OR bicycles"


@pytest.mark.parametrize(
    "text",
    [
        '"unbalanced quote',
        "AND",
        "OR OR OR",
        "NOT",
        "foo:bar",
        "x" * 10_000,
        "night\x00\x00drilling",
        "!!! ??? ...",
        "((((",
        "))))",
        "tag:",
        "status:",
        "*",
        "title:(",
        '"" ""',
        "a:b:c:d",
        "\\",
        "%s %d {0}",
        "\u202e\u200bnight",
    ],
)
def test_bad_queries_never_raise(session, corpus, text):
    result = search(session, None, text)
    assert result.total >= 0
    assert len(result.query) <= MAX_QUERY_LENGTH


def test_long_queries_are_truncated_with_a_notice(session, corpus):
    result = search(session, None, "night " * 2000)
    assert len(result.query) <= MAX_QUERY_LENGTH
    assert any("first 500 characters" in notice for notice in result.notices)
    assert result.total == 2


def test_queries_without_words_explain_themselves(session, corpus):
    for text in ("AND", "!!!", "(((", "the of"):
        result = search(session, None, text)
        assert result.total == 0
        assert any("no words to search" in notice for notice in result.notices), text


def test_unbalanced_quote_is_ignored_with_a_notice(session, corpus):
    result = search(session, None, '"sorting fee')
    assert result.total == 1
    assert any("quotation mark" in notice for notice in result.notices)


def test_nul_characters_are_dropped(session, corpus):
    assert search(session, None, "night\x00").total == 2
