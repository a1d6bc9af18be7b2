"""The search backend interface: choosing it, writing and removing through it, visibility."""

from __future__ import annotations

from datetime import datetime

import pytest

from normhub import create_app
from normhub.search import indexing
from normhub.search.backend import FieldFilter, SearchQuery, backend_for
from normhub.search.documents import spelling_text
from normhub.search.services import visible_communities
from normhub.search.whoosh.backend import WhooshBackend
from tests.search_helpers import add_comment


def _facets(result) -> dict[str, dict[str, int]]:
    return {name: {v.key: v.count for v in values} for name, values in result.facets.items()}


def _document(community, number: int, title: str, **fields) -> dict:
    return {
        "id": f"norm:{number}",
        "kind": "norm",
        "norm_id": str(number),
        "title": title,
        "summary": "",
        "body": "",
        "tag": "",
        "status": "open",
        "community": community.slug,
        "community_id": str(community.id),
        "author": "Ada Lovelace",
        "norm_title": title,
        "norm_slug": f"norm-{number}",
        "created": datetime(2026, 1, 1),
        "spell": spelling_text(title),
        **fields,
    }


@pytest.mark.whoosh
def test_backend_for_gives_the_whoosh_backend_once_per_app(app):
    backend = backend_for(app)
    assert isinstance(backend, WhooshBackend)
    assert backend.name == "whoosh"
    assert backend_for(app) is backend
    assert app.config["SEARCH_BACKEND"] == "whoosh"


def test_an_unknown_backend_stops_the_app_from_starting(database_url, instance_path):
    with pytest.raises(
        ValueError, match="Unknown SEARCH_BACKEND 'solr'; known backends: postgres, whoosh"
    ):
        create_app(
            {"TESTING": True, "DATABASE_URL": database_url, "SEARCH_BACKEND": "solr"},
            instance_path=str(instance_path),
        )


def test_write_search_remove_round_trip(app, factory, session):
    app.config["SEARCH_INDEXING"] = False  # only what goes through the interface below
    community = factory.community()
    backend = backend_for(app)
    communities = visible_communities(session, None)
    backend.write(
        [
            _document(community, 1001, "Kettle descaling rota", tag="kitchen"),
            _document(community, 1002, "Kettle cable safety", status="draft"),
            {
                "id": "comment:2001",
                "kind": "comment",
                "norm_id": "1001",
                "comment_id": 2001,
                "body": "Which kettle do you mean?",
                "community": community.slug,
                "community_id": str(community.id),
                "author": "Grace Hopper",
                "norm_title": "Kettle descaling rota",
                "norm_slug": "norm-1001",
            },
        ]
    )
    result = backend.search(SearchQuery("kettle", communities))
    assert result.searched and result.total == 3
    assert {hit.norm_slug for hit in result.hits} == {"norm-1001", "norm-1002"}
    assert _facets(result)["type"] == {"norm": 2, "comment": 1}
    assert _facets(result)["status"] == {"open": 1, "draft": 1}
    assert _facets(result)["community"] == {community.slug: 3}
    assert _facets(result)["tag"] == {"kitchen": 1}

    only_drafts = backend.search(
        SearchQuery("kettle", communities, filters=[FieldFilter("status", "draft")])
    )
    assert [hit.title for hit in only_drafts.hits] == ["Kettle cable safety"]

    backend.write(removed=["norm:1001"])  # and the comment on it
    assert set(backend.documents()) == {"norm:1002"}
    result = backend.search(SearchQuery("kettle", communities))
    assert result.total == 1
    assert [hit.title for hit in result.hits] == ["Kettle cable safety"]
    assert backend.suggest(SearchQuery("kettel", communities)) == "kettle"


def test_index_reads_from_the_database_and_removes_what_is_gone(app, factory, session):
    app.config["SEARCH_INDEXING"] = False
    community = factory.community()
    norm = factory.norm(community, title="Defrost the freezer monthly")
    comment = add_comment(session, norm, norm.author, "The freezer door sticks")
    backend = backend_for(app)
    assert backend.documents() == {}

    assert backend.index(indexing.ids_of([norm, comment])) is True
    documents = backend.documents()
    assert documents[f"norm:{norm.id}"]["title"] == "Defrost the freezer monthly"
    assert documents[f"comment:{comment.id}"]["body"] == "The freezer door sticks"
    communities = visible_communities(session, None)
    assert backend.search(SearchQuery("freezer", communities)).total == 2

    pending = indexing.ids_of([norm])
    norm.current_version_id = None
    session.flush()
    session.delete(norm)
    session.commit()
    assert backend.index(pending) is True
    assert backend.documents() == {}
    assert backend.search(SearchQuery("freezer", communities)).total == 0
    stats = backend.stats()
    assert stats.exists and stats.documents == 0 and not stats.pending


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_members_only_documents_never_reach_an_outsider(factory, session, app, who):
    public = factory.community()
    private = factory.community(visibility="members", join_policy="invite")
    factory.norm(public, title="Walrus feeding times", tags=["walrus"])
    secret = factory.norm(private, title="Walrus secret plans", tags=["walrus", "secret"])
    insider = factory.member(private, name="Insider")
    add_comment(session, secret, insider, "The walrus stays between us")
    outsider = factory.user("Outsider") if who == "outsider" else None
    backend = backend_for(app)

    seen = visible_communities(session, outsider)
    assert private.id not in seen
    result = backend.search(SearchQuery("walrus", seen))
    assert result.total == 1
    assert [hit.title for hit in result.hits] == ["Walrus feeding times"]
    facets = _facets(result)
    assert facets["community"] == {public.slug: 1}
    assert facets["tag"] == {"walrus": 1}
    assert facets["type"] == {"norm": 1}
    assert facets["status"] == {"open": 1}
    # Naming the hidden community, in the text or as a facet, finds nothing either.
    assert backend.search(SearchQuery(f"community:{private.slug} walrus", seen)).total == 0
    by_filter = SearchQuery("walrus", seen, filters=[FieldFilter("community_id", str(private.id))])
    assert backend.search(by_filter).total == 0
    assert backend.search(SearchQuery("secret", seen)).total == 0
    everything = backend.search(SearchQuery("", seen, filters=[FieldFilter("tag", "walrus")]))
    assert everything.total == 1
    assert _facets(everything)["tag"] == {"walrus": 1}

    member_view = backend.search(SearchQuery("walrus", visible_communities(session, insider)))
    assert member_view.total == 3
    assert _facets(member_view)["community"] == {public.slug: 1, private.slug: 2}
