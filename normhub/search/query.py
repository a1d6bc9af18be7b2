"""What people type into the search box, made into a query any backend can run.

Cleaning the text (control characters, length, unbalanced quotes), the field
names people may use and the index fields they mean, the values filters
accept ("in-force", a community's name), the facet selections of the page,
and which words a "did you mean" may replace: none of it depends on the
engine. A backend parses ``SearchQuery.text`` with its own parser, asking
``FilterValues`` what a typed filter value means.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from normhub.communities.models import Community
from normhub.communities.services import slugify
from normhub.norms.models import STATUSES
from normhub.search.results import PER_PAGE, SearchResult

MAX_QUERY_LENGTH = 500

# Field names people may type, and the index field each one means. Anything
# else followed by a colon ("foo:bar") is read as plain words.
FIELD_ALIASES = {
    "tag": "tag",
    "tags": "tag",
    "status": "status",
    "author": "author",
    "by": "author",
    "community": "community",
    "type": "kind",
    "title": "title",
}
# Searched when a word has no field; weights favour the title.
DEFAULT_FIELDS = {"title": 3.0, "tag": 2.0, "summary": 1.5, "assumptions": 1.2, "body": 1.0}
# Fields whose value is one whole term, so a phrase typed for them is that value.
VALUE_FIELDS = ("status", "community", "kind")

STATUS_WORDS = {
    **{status: status for status in STATUSES},
    "in-force": "in_force",
    "inforce": "in_force",
    "in force": "in_force",
    "force": "in_force",
    "adopted": "in_force",
    "proposed": "open",
    "discussion": "open",
}
KIND_WORDS = {"norm": "norm", "norms": "norm", "comment": "comment", "comments": "comment"}

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FIELD_PREFIX = re.compile(r"(?<![\w\"])([A-Za-z_][\w-]*):")
_WORD = re.compile(r"[^\W\d_]{3,}")
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}


# --- query text --------------------------------------------------------------


def clean_query(text: str | None) -> tuple[str, list[str]]:
    """User input made safe to parse, and notices about what was changed."""
    notices: list[str] = []
    text = _CONTROL_CHARS.sub(" ", text or "")
    if len(text) > MAX_QUERY_LENGTH:
        cut = text[:MAX_QUERY_LENGTH]
        # Drop a word cut in half: "night nig" would look for "nig".
        if not text[MAX_QUERY_LENGTH].isspace() and " " in cut:
            cut = cut.rsplit(" ", 1)[0]
        text = cut
        notices.append(
            f"Your search was very long, so only its first {MAX_QUERY_LENGTH} characters were used."
        )
    text = " ".join(text.split())
    if text.count('"') % 2:
        head, _, tail = text.rpartition('"')
        text = f"{head} {tail}".strip()
        notices.append("A quotation mark had no partner, so it was ignored.")
    return _rewrite_field_names(text), notices


def _rewrite_field_names(text: str) -> str:
    """Map friendly field names to index fields; unknown ``name:`` becomes plain words."""

    def replace(match: re.Match) -> str:
        if text.count('"', 0, match.start()) % 2:
            return match.group(0)  # inside a phrase: leave the words alone
        name = match.group(1).lower()
        rest = text[match.end() : match.end() + 1]
        if name in FIELD_ALIASES and rest and not rest.isspace():
            return FIELD_ALIASES[name] + ":"
        return match.group(1) + " "

    return _FIELD_PREFIX.sub(replace, text)


# --- filter values -------------------------------------------------------------


def normalize_status(value: str) -> str:
    value = " ".join(value.lower().replace("_", " ").split())
    return STATUS_WORDS.get(value, STATUS_WORDS.get(value.replace(" ", "-"), value))


def normalize_kind(value: str) -> str:
    return KIND_WORDS.get(value.strip().lower(), value)


class FilterValues:
    """What a filter value typed in the query means, and which ones meant nothing."""

    def __init__(self, communities: dict[int, Community]):
        self.slugs = {c.slug for c in communities.values()}
        self.by_name: dict[str, str] = {}
        for community in communities.values():
            self.by_name[community.name.lower()] = community.slug
            self.by_name[slugify(community.name)] = community.slug
        self.unknown: list[str] = []

    def community_slug(self, value: str) -> str:
        value = value.strip().lower()
        if value in self.slugs:
            return value
        return self.by_name.get(value) or self.by_name.get(slugify(value)) or value

    def status(self, value: str) -> str:
        status = normalize_status(value)
        if status not in STATUSES:
            self.unknown.append(f"status “{value}”")
        return status

    def kind(self, value: str) -> str:
        return KIND_WORDS.get(value.lower(), value)

    @staticmethod
    def tag_of_words(words: list[str]) -> str:
        """Tags have no word positions: "open data" typed as a tag is open-data."""
        return "-".join(words)

    def notices(self) -> list[str]:
        if not self.unknown:
            return []
        known = ", ".join(s.replace("_", "-") for s in STATUSES)
        return [f"Unknown {', '.join(self.unknown)}; statuses are: {known}."]


# --- the query a backend runs --------------------------------------------------


@dataclass(frozen=True)
class FieldFilter:
    """One facet selection: documents whose index ``field`` holds ``value``."""

    field: str
    value: str


@dataclass
class SearchQuery:
    """A cleaned query for one viewer: text, facet selections, the page wanted.

    ``communities`` are the communities the viewer may see; a backend returns
    nothing from any other, in hits, totals and facet counts alike.
    """

    text: str
    communities: dict[int, Community]
    filters: list[FieldFilter] = field(default_factory=list)
    applied: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def is_empty(self) -> bool:
        return not self.text and not self.filters

    def new_result(self) -> SearchResult:
        return SearchResult(
            query=self.text,
            page=self.page,
            per_page=self.per_page,
            notices=list(self.notices),
            filters=dict(self.applied),
        )


def facet_filters(
    selections: dict[str, str], communities: dict[int, Community]
) -> tuple[list[FieldFilter], dict[str, str]]:
    """Facet selections as index field values, and the selections that were understood."""
    filters: list[FieldFilter] = []
    applied: dict[str, str] = {}
    by_slug = {c.slug: c for c in communities.values()}
    community = by_slug.get((selections.get("community") or "").strip().lower())
    if selections.get("community"):
        # An invisible or unknown community matches nothing, like an unknown word.
        filters.append(FieldFilter("community_id", str(community.id) if community else "-1"))
        applied["community"] = selections["community"]
    if selections.get("status"):
        status = normalize_status(selections["status"])
        filters.append(FieldFilter("status", status))
        applied["status"] = status
    if selections.get("tag"):
        tag = selections["tag"].strip().lower()
        filters.append(FieldFilter("tag", tag))
        applied["tag"] = tag
    if selections.get("type"):
        kind = normalize_kind(selections["type"])
        filters.append(FieldFilter("kind", kind))
        applied["type"] = kind
    return filters, applied


def build_query(
    text: str | None,
    selections: dict[str, str],
    communities: dict[int, Community],
    page: int = 1,
    per_page: int = PER_PAGE,
) -> SearchQuery:
    cleaned, notices = clean_query(text)
    filters, applied = facet_filters(selections, communities)
    return SearchQuery(
        text=cleaned,
        communities=communities,
        filters=filters,
        applied=applied,
        notices=notices,
        page=max(1, page),
        per_page=per_page,
    )


# --- "did you mean" --------------------------------------------------------------


def corrected(
    text: str, known: Callable[[str], bool], closest: Callable[[str], str | None]
) -> str | None:
    """``text`` with unknown words replaced by ``closest`` ones, or None if none changed.

    Operators, field names and filter values (after ``tag:`` and the like) are
    never misspellings, so they are left alone.
    """
    changed = False

    def replace(match: re.Match) -> str:
        nonlocal changed
        word = match.group(0)
        start, end = match.span()
        if word in _OPERATORS or match.string[end : end + 1] == ":":
            return word
        if start > 0 and match.string[start - 1] == ":":
            return word
        lower = word.lower()
        if known(lower):
            return word
        suggestion = closest(lower)
        if suggestion is None:
            return word
        changed = True
        return suggestion

    result = _WORD.sub(replace, text)
    return result if changed else None
