"""Searching norms and comments: query parsing, visibility, facets, snippets, suggestions.

Visibility is applied inside the Whoosh search as a filter on community ids
the viewer may see (from ``visible_communities_clause``), so totals, facet
counts and pages never include anything from a members-only community the
viewer is not in.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session
from whoosh import highlight, qparser
from whoosh import query as wq
from whoosh.reading import IndexReader

from normhub.accounts.models import User
from normhub.communities.models import Community
from normhub.communities.services import slugify, visible_communities_clause
from normhub.discussion.models import Comment
from normhub.norms.models import STATUS_LABELS, STATUSES, Norm
from normhub.search import matching
from normhub.search.schema import SCHEMA, TEXT_FIELDS, index_dir, searcher_for

logger = logging.getLogger("normhub.search")

MAX_QUERY_LENGTH = 500
PER_PAGE = 10
MAX_TAG_FACETS = 15
SNIPPET_CHARS = 220

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
KIND_LABELS = {"norm": "Norms", "comment": "Comments"}

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FIELD_PREFIX = re.compile(r"(?<![\w\"])([A-Za-z_][\w-]*):")
_WORD = re.compile(r"[^\W\d_]{3,}")
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}


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


@lru_cache(maxsize=1)
def _parser() -> qparser.QueryParser:
    parser = qparser.QueryParser(
        None,
        SCHEMA,
        plugins=[
            qparser.PhrasePlugin(),
            qparser.GroupPlugin(),
            qparser.OperatorsPlugin(AndMaybe=None, Require=None),
            qparser.PlusMinusPlugin(plusexpr=r"(?<!\S)\+", minusexpr=r"(?<!\S)-"),
            qparser.FieldsPlugin(remove_unknown=True),
        ],
        group=qparser.AndGroup,
    )
    parser.add_plugin(qparser.MultifieldPlugin(list(DEFAULT_FIELDS), fieldboosts=DEFAULT_FIELDS))
    return parser


def normalize_status(value: str) -> str:
    value = " ".join(value.lower().replace("_", " ").split())
    return STATUS_WORDS.get(value, STATUS_WORDS.get(value.replace(" ", "-"), value))


class _Normalizer:
    """Rewrites filter values people type into the values the index holds."""

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

    def __call__(self, q: wq.Query) -> wq.Query:
        if isinstance(q, wq.Phrase) and q.fieldname in ("status", "community", "kind"):
            q = wq.Term(q.fieldname, " ".join(q.words), boost=q.boost)
        elif isinstance(q, wq.Phrase) and q.fieldname == "tag":
            # Tags have no word positions; "open data" as a tag is open-data.
            return wq.Term("tag", "-".join(q.words), boost=q.boost)
        if isinstance(q, wq.Term) and isinstance(q.text, str):
            if q.fieldname == "status":
                status = normalize_status(q.text)
                if status not in STATUSES:
                    self.unknown.append(f"status “{q.text}”")
                return wq.Term("status", status, boost=q.boost)
            if q.fieldname == "community":
                return wq.Term("community", self.community_slug(q.text), boost=q.boost)
            if q.fieldname == "kind":
                return wq.Term("kind", KIND_WORDS.get(q.text.lower(), q.text), boost=q.boost)
        return q


def parse_query(text: str, communities: dict[int, Community]) -> tuple[wq.Query, list[str]]:
    normalizer = _Normalizer(communities)
    parsed = _parser().parse(text)
    parsed = parsed.accept(normalizer).normalize()
    if isinstance(parsed, wq.Not):
        # Only exclusions ("NOT spam"): everything visible except those.
        parsed = wq.AndNot(wq.Every(), parsed.query)
    notes = []
    if normalizer.unknown:
        known = ", ".join(s.replace("_", "-") for s in STATUSES)
        notes.append(f"Unknown {', '.join(normalizer.unknown)}; statuses are: {known}.")
    return parsed, notes


# --- facets --------------------------------------------------------------------


def _facet_values(
    counts: dict[str, dict[str, int]], communities: dict[int, Community]
) -> dict[str, list[FacetValue]]:
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


# --- snippets --------------------------------------------------------------------


class MarkFormatter(highlight.Formatter):
    """Wraps matches in <mark>; every other character of the user text is escaped."""

    between = " … "

    def _text(self, text):
        return str(escape(text))

    def format_token(self, text, token, replace=False):
        return f"<mark>{escape(highlight.get_text(text, token, replace))}</mark>"


_FRAGMENTER = highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60)
_FORMATTER = MarkFormatter()


def _highlight(text: str, fieldname: str, terms: set[str]) -> str:
    return highlight.highlight(
        text, terms, SCHEMA[fieldname].analyzer, _FRAGMENTER, _FORMATTER, top=2
    )


def _mentions(text: str, stems: set[str]) -> bool:
    """Cheap test whether highlighting ``text`` can find anything (it re-analyzes it all)."""
    lowered = text.lower()
    return any(stem[: max(3, len(stem) - 1)] in lowered for stem in stems)


def _snippet(
    stored: dict, fields: tuple[str, ...], fallback: str, stems: dict[str, set[str]]
) -> Markup:
    for fieldname in fields:
        text = stored.get(fieldname) or ""
        terms = stems.get(fieldname, set())
        if not text or not _mentions(text, terms):
            continue
        try:
            fragment = _highlight(text, fieldname, terms)
        except Exception:  # a highlighting bug must not lose the whole result page
            logger.exception("Highlighting %s failed", fieldname)
            fragment = ""
        if fragment:
            # Safe: MarkFormatter escaped all text and added only <mark> tags.
            return Markup(fragment)  # noqa: S704
    fallback = fallback or ""
    if len(fallback) > SNIPPET_CHARS:
        fallback = fallback[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return escape(fallback)


# --- suggestions -------------------------------------------------------------------


def _suggest_word(searcher, word: str) -> str | None:
    # Most typos are one edit away, and the distance-1 automaton is far cheaper
    # to build than the distance-2 one, so try that first.
    for maxdist in (1, 2):
        best: tuple[int, int, str] | None = None
        for reader, _offset in searcher.reader().leaf_readers():
            if "spell" not in reader.indexed_field_names():
                continue
            for candidate in _terms_within(reader, word, maxdist):
                if candidate == word:
                    continue
                rank = (_distance(word, candidate), -searcher.doc_frequency("spell", candidate))
                if best is None or (*rank, candidate) < best:
                    best = (*rank, candidate)
        if best is not None:
            return best[2]
    return None


# Whoosh finds close words with a Levenshtein automaton built for each word
# and segment, which costs milliseconds; the small segments updates leave
# have few words, and simply measuring the distance to each is cheaper.
SCAN_SPELLING_BELOW_DOCS = 2000


def _terms_within(reader, word: str, maxdist: int):
    if reader.doc_count_all() < SCAN_SPELLING_BELOW_DOCS:
        return IndexReader.terms_within(reader, "spell", word, maxdist, prefix=1)
    return reader.terms_within("spell", word, maxdist, prefix=1)


def _distance(a: str, b: str) -> int:
    from whoosh.support.levenshtein import distance

    return distance(a, b)


def _known(searcher, word: str) -> bool:
    if searcher.doc_frequency("spell", word) > 0:
        return True
    stems = [token.text for token in SCHEMA["body"].analyzer(word)]
    return any(
        searcher.doc_frequency(fieldname, stem) > 0 for stem in stems for fieldname in TEXT_FIELDS
    )


def suggest(searcher, text: str) -> str | None:
    """The query with unknown words replaced by close words from the index, if any."""
    changed = False

    def replace(match: re.Match) -> str:
        nonlocal changed
        word = match.group(0)
        start, end = match.span()
        if word in _OPERATORS or match.string[end : end + 1] == ":":
            return word
        if start > 0 and match.string[start - 1] == ":":
            return word  # a filter value (tag:, status:…) is not a misspelling
        lower = word.lower()
        if _known(searcher, lower):
            return word
        suggestion = _suggest_word(searcher, lower)
        if suggestion is None:
            return word
        changed = True
        return suggestion

    corrected = _WORD.sub(replace, text)
    return corrected if changed else None


# --- search ----------------------------------------------------------------------------


def visible_communities(session: Session, viewer: User | None) -> dict[int, Community]:
    rows = session.scalars(select(Community).where(visible_communities_clause(viewer)))
    return {community.id: community for community in rows}


def _filter_terms(
    filters: dict[str, str], communities: dict[int, Community]
) -> tuple[list[wq.Query], dict[str, str]]:
    """Facet selections as index terms, and the selections that were understood."""
    terms: list[wq.Query] = []
    applied: dict[str, str] = {}
    by_slug = {c.slug: c for c in communities.values()}
    community = by_slug.get((filters.get("community") or "").strip().lower())
    if filters.get("community"):
        # An invisible or unknown community matches nothing, like an unknown word.
        cid = str(community.id) if community else "-1"
        terms.append(wq.Term("community_id", cid))
        applied["community"] = filters["community"]
    if filters.get("status"):
        status = normalize_status(filters["status"])
        terms.append(wq.Term("status", status))
        applied["status"] = status
    if filters.get("tag"):
        tag = filters["tag"].strip().lower()
        terms.append(wq.Term("tag", tag))
        applied["tag"] = tag
    if filters.get("type"):
        kind = KIND_WORDS.get(filters["type"].strip().lower(), filters["type"])
        terms.append(wq.Term("kind", kind))
        applied["type"] = kind
    return terms, applied


def search(
    session: Session,
    viewer: User | None,
    text: str | None,
    page: int = 1,
    per_page: int = PER_PAGE,
    filters: dict[str, str] | None = None,
    directory: Path | None = None,
) -> SearchResult:
    """One page of what ``viewer`` may see matching ``text`` and the facet ``filters``."""
    cleaned, notices = clean_query(text)
    page = max(1, page)
    result = SearchResult(query=cleaned, page=page, per_page=per_page, notices=notices)
    communities = visible_communities(session, viewer)
    extra_terms, result.filters = _filter_terms(filters or {}, communities)
    if not cleaned and not extra_terms:
        return result
    try:
        if cleaned:
            parsed, notes = parse_query(cleaned, communities)
            result.notices.extend(notes)
        else:
            parsed = wq.Every()
        if parsed is wq.NullQuery or isinstance(parsed, type(wq.NullQuery)):
            if not extra_terms:
                result.notices.append(
                    "There were no words to search for. Try a word or two from a "
                    "norm's title or text."
                )
                return result
            parsed = wq.Every()
        result.searched = True
        if not communities:
            return result
        searcher = searcher_for(directory or index_dir(current_app))
        if searcher is None:
            result.notices.append("The search index is empty; it is being built.")
            return result
        _run(searcher, parsed, communities, extra_terms, result)
        result.hits = _refresh_from_database(session, result.hits)
        if cleaned and result.total < 5:
            result.suggestion = suggest(searcher, cleaned)
    except Exception:
        logger.exception("Search failed for %r", cleaned[:200])
        result.hits, result.total, result.facets = [], 0, {}
        result.notices.append(
            "We could not understand that search. Try simpler words, or put a phrase "
            "in quotation marks."
        )
    return result


def _run(searcher, parsed, communities, extra_terms, result: SearchResult) -> None:
    """Total, facets and the ranked page, all over the same visible matches."""
    allowed_ids = {str(cid) for cid in communities}
    segments = []
    counts: dict[str, dict[str, int]] = {name: {} for name in matching.FACET_FIELDS}
    for evaluate, offset, docs in matching.matching_sets(searcher, parsed, extra_terms):
        if not docs:
            continue
        # Visibility: drop the documents of every community the viewer may not see.
        by_community = evaluate.sets.field_values(evaluate.reader, "community_id")
        hidden = 0
        for cid, posted in by_community.items():
            if cid not in allowed_ids:
                hidden |= posted
        docs &= ~hidden
        if not docs:
            continue
        for fieldname, values in matching.facet_counts(evaluate, docs).items():
            for value, n in values.items():
                counts[fieldname][value] = counts[fieldname].get(value, 0) + n
        segments.append((evaluate, offset, docs))
    result.total = sum(docs.bit_count() for _, _, docs in segments)
    result.facets = _facet_values(counts, communities)
    start = (result.page - 1) * result.per_page
    if not segments or start >= result.total:
        return
    limit = start + result.per_page
    if _unranked(parsed):
        # Nothing to score (only filters or exclusions): newest documents first.
        docnums = matching.newest(segments, limit)[start:]
        stems: dict[str, set[str]] = {}
    else:
        docnums = matching.rank(searcher, parsed, segments, limit)[start:]
        stems = _stems(parsed)
    result.hits = [_hit(searcher.stored_fields(n), communities, stems) for n in docnums]


def _unranked(parsed: wq.Query) -> bool:
    return isinstance(parsed, wq.Every) or (
        isinstance(parsed, wq.AndNot) and isinstance(parsed.a, wq.Every)
    )


def _stems(parsed: wq.Query) -> dict[str, set[str]]:
    stems: dict[str, set[str]] = {}
    for fieldname, text in parsed.iter_all_terms():
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        stems.setdefault(fieldname, set()).add(str(text).lower())
    return stems


def _hit(stored: dict, communities: dict[int, Community], stems: dict[str, set[str]]) -> SearchHit:
    community = communities.get(int(stored["community_id"]))
    kind = stored["kind"]
    if kind == "norm":
        snippet = _snippet(
            stored, ("summary", "body", "assumptions"), stored.get("summary", ""), stems
        )
        title = stored.get("title", "")
    else:
        snippet = _snippet(stored, ("body",), stored.get("body", ""), stems)
        title = stored.get("norm_title", "")
    tags = [t for t in (stored.get("tag") or "").split(",") if t]
    return SearchHit(
        kind=kind,
        title=title,
        community_slug=stored.get("community", ""),
        community_name=community.name if community else stored.get("community", ""),
        norm_slug=stored.get("norm_slug", ""),
        norm_id=int(stored["norm_id"]),
        comment_id=stored.get("comment_id"),
        status=stored.get("status") or None,
        author=stored.get("author", ""),
        created=stored.get("created"),
        snippet=snippet,
        tags=tags,
    )


def _refresh_from_database(session: Session, hits: list[SearchHit]) -> list[SearchHit]:
    """Current titles and statuses for the page, and no comment hidden since indexing."""
    if not hits:
        return hits
    norm_ids = {hit.norm_id for hit in hits}
    norms = {
        row.id: row
        for row in session.execute(
            select(Norm.id, Norm.title, Norm.slug, Norm.status).where(Norm.id.in_(norm_ids))
        )
    }
    comment_ids = [hit.comment_id for hit in hits if hit.comment_id is not None]
    hidden = set()
    if comment_ids:
        hidden = set(
            session.scalars(
                select(Comment.id).where(
                    Comment.id.in_(comment_ids), Comment.hidden_at.is_not(None)
                )
            )
        )
    fresh = []
    for hit in hits:
        norm = norms.get(hit.norm_id)
        if norm is None or hit.comment_id in hidden:
            continue
        hit.title, hit.norm_slug = norm.title, norm.slug
        if hit.kind == "norm":
            hit.status = norm.status
        fresh.append(hit)
    return fresh
