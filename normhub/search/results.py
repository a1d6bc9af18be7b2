"""What a search answers, whichever backend found it: hits, totals and facets.

Views, the JSON API and templates read these and nothing of the engine behind
them, so a backend can be swapped without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup

from normhub.communities.models import Community
from normhub.norms.models import STATUS_LABELS

PER_PAGE = 10
MAX_TAG_FACETS = 15
KIND_LABELS = {"norm": "Norms", "comment": "Comments"}
# The index fields facets are counted on, in the order backends report them.
FACET_FIELDS = ("community_id", "status", "kind", "tag")

NO_WORDS_NOTICE = (
    "There were no words to search for. Try a word or two from a norm's title or text."
)
EMPTY_INDEX_NOTICE = "The search index is empty; it is being built."
NOT_UNDERSTOOD_NOTICE = (
    "We could not understand that search. Try simpler words, or put a phrase in quotation marks."
)


@dataclass
class FacetValue:
    key: str
    label: str
    count: int


@dataclass
class SearchHit:
    kind: str
    title: str
    community_slug: str
    community_name: str
    norm_slug: str
    norm_id: int
    comment_id: int | None
    status: str | None
    author: str
    created: datetime | None
    snippet: Markup
    tags: list[str]

    @property
    def status_label(self) -> str | None:
        return STATUS_LABELS.get(self.status) if self.status else None


@dataclass
class SearchResult:
    query: str
    page: int
    per_page: int
    total: int = 0
    hits: list[SearchHit] = field(default_factory=list)
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    filters: dict[str, str] = field(default_factory=dict)
    suggestion: str | None = None
    notices: list[str] = field(default_factory=list)
    searched: bool = False
    # True when ``total`` and the facet counts are estimates, rounded: a search matching
    # very many documents counts a sample of them (see ``postgres.counting``).
    total_estimated: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def number(self) -> int:  # the shared pagination macro's name for the page
        return self.page


def rounded(count: float, digits: int = 2) -> int:
    """``count`` to ``digits`` significant figures (136,172 -> 140,000), never below 1."""
    if count < 1:
        return 1
    whole = round(count)
    scale = 10 ** max(0, len(str(whole)) - digits)
    return max(1, round(whole / scale) * scale)


def facet_values(
    counts: dict[str, dict[str, int]], communities: dict[int, Community]
) -> dict[str, list[FacetValue]]:
    """Facet counts by index field and value, as the labelled lists pages show."""

    def by_count(item: FacetValue):
        return (-item.count, item.label.lower())

    community_values = []
    for key, count in counts.get("community_id", {}).items():
        community = communities.get(int(key)) if key.isdigit() else None
        if community is not None:
            community_values.append(FacetValue(community.slug, community.name, count))
    status_values = [
        FacetValue(key, STATUS_LABELS.get(key, key), count)
        for key, count in counts.get("status", {}).items()
    ]
    kind_values = [
        FacetValue(key, KIND_LABELS.get(key, key), count)
        for key, count in counts.get("kind", {}).items()
    ]
    tag_values = [FacetValue(key, key, count) for key, count in counts.get("tag", {}).items()]
    return {
        "type": sorted(kind_values, key=by_count),
        "community": sorted(community_values, key=by_count),
        "status": sorted(status_values, key=by_count),
        "tag": sorted(tag_values, key=by_count)[:MAX_TAG_FACETS],
    }
