"""A community's path for newcomers: its norms in force, each after the norms it builds on.

``order_path`` is the ordering alone, on plain values (no database): every norm
comes after the in-force norms it builds on, and among the norms that may come
next the most important goes first: the most cited (how many open or in-force
norms build on it), then the oldest, then by title.

Choices the ordering makes:

* A prerequisite that is not in force (open, retired, withdrawn, a draft) is not
  on the path and blocks nothing. The norms *it* builds on still count: when an
  in-force norm builds on an open one that builds on an in-force one, the path
  keeps the in-force one first, as a reader following the links would meet it.
* Citations count norms that build on a norm, not comments that link to it: a
  prerequisite is a considered statement made in a norm's own text, reviewed
  with it; a link in a comment may as well be a disagreement, and one busy thread
  would outweigh the norms themselves. Retired, withdrawn and draft norms do not
  count: they ask nothing of anyone.
* Prerequisites form no cycle when written through the form, but older or edited
  data may hold one. A cycle never stops the ordering and never drops a norm:
  when every norm left waits on another one left, the most important norm of a
  cycle that waits on nothing outside its cycle goes first, as if it built on
  nothing more. ``PathOrder.cycle_breaks`` names those norms, in order.

``load_paths`` builds the paths of some communities in two queries, whatever
their size: the norms in force with their reading words, and the prerequisite
links. Words are counted in SQL from the stored Markdown of the version in force
(essay, summary, assumptions and their explanations): a list never loads, let
alone renders, the texts. A path built is kept, as plain values, until a write
changes it (``norms.path_cache``): then loading it is one query for its norms,
and its order alone (``path_positions``) none.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from normhub.communities.models import Community
from normhub.kept import kept_or_built
from normhub.norms import path_cache
from normhub.norms.models import Assumption, Norm, NormPrerequisite, NormVersion

# The pace a reading time assumes: an adult's silent reading of plain prose.
READING_WPM = 230
# Norms whose citations count: those that ask something of members now or soon.
CITING_STATUSES = ("open", "in_force")


@dataclass(frozen=True)
class PathNode:
    """One norm in force, as the ordering sees it."""

    id: int
    title: str
    created_at: datetime
    citations: int = 0


@dataclass(frozen=True)
class PathOrder:
    ids: tuple[int, ...]
    # Norms placed before some norm they build on, to break a cycle.
    cycle_breaks: tuple[int, ...] = ()
    # Per norm: the in-force norms it builds on, directly or through norms not in force.
    builds_on: dict[int, frozenset[int]] = field(default_factory=dict)


def importance(node: PathNode) -> tuple:
    """Lower first: most cited, then oldest, then by title (and id, so it is total)."""
    return (-node.citations, node.created_at, node.title.casefold(), node.id)


def citation_counts(edges: Iterable[tuple[int, int]]) -> dict[int, int]:
    """How many norms build on each norm, from (norm, prerequisite) pairs of citing norms."""
    counts: dict[int, int] = defaultdict(int)
    for norm_id, prerequisite_id in set(edges):
        if norm_id != prerequisite_id:
            counts[prerequisite_id] += 1
    return dict(counts)


def _on_path_prerequisites(
    on_path: set[int], edges: Iterable[tuple[int, int]]
) -> dict[int, frozenset[int]]:
    """For each norm on the path, the norms on the path it builds on: directly, or through
    norms not on the path (whose own prerequisites stand in for them)."""
    graph: dict[int, set[int]] = defaultdict(set)
    for norm_id, prerequisite_id in edges:
        graph[norm_id].add(prerequisite_id)
    result = {}
    for start in on_path:
        found: set[int] = set()
        seen = {start}
        stack = list(graph[start])
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            if current in on_path:
                found.add(current)
            else:
                stack.extend(graph[current])
        result[start] = frozenset(found)
    return result


def _upstream(waiting: dict[int, set[int]]) -> dict[int, set[int]]:
    """Every norm each waiting norm still waits on, directly or not."""
    closure = {}
    for start in waiting:
        seen: set[int] = set()
        stack = list(waiting[start])
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(waiting[current])
        closure[start] = seen
    return closure


def _cycle_to_break(waiting: dict[int, set[int]], nodes: dict[int, PathNode]) -> int:
    """The most important norm of a cycle that waits on nothing outside it.

    Such a cycle always exists when every norm left waits (follow the waits
    upstream and they end in one); breaking anywhere else would put a norm
    before a prerequisite that is in no cycle at all.
    """
    closure = _upstream(waiting)
    candidates = [
        norm_id
        for norm_id, above in closure.items()
        if above and all(norm_id in closure[other] for other in above)
    ]
    return min(candidates, key=lambda norm_id: importance(nodes[norm_id]))


def order_path(nodes: Iterable[PathNode], edges: Iterable[tuple[int, int]]) -> PathOrder:
    """The norms of ``nodes`` in path order.

    ``edges`` are (norm, prerequisite) pairs; either end may be a norm that is
    not among ``nodes`` (not in force): see the module's docstring.
    """
    by_id = {node.id: node for node in nodes}
    builds_on = _on_path_prerequisites(set(by_id), list(edges))
    waiting = {norm_id: set(above) - {norm_id} for norm_id, above in builds_on.items()}
    followers: dict[int, set[int]] = defaultdict(set)
    for norm_id, above in waiting.items():
        for prerequisite_id in above:
            followers[prerequisite_id].add(norm_id)
    ready = [
        (importance(by_id[norm_id]), norm_id) for norm_id, above in waiting.items() if not above
    ]
    heapq.heapify(ready)
    placed: list[int] = []
    breaks: list[int] = []
    left = {norm_id: above for norm_id, above in waiting.items() if above}
    while len(placed) < len(by_id):
        if not ready:
            broken = _cycle_to_break(left, by_id)
            breaks.append(broken)
            del left[broken]
            heapq.heappush(ready, (importance(by_id[broken]), broken))
        _, norm_id = heapq.heappop(ready)
        placed.append(norm_id)
        for follower in followers[norm_id]:
            above = left.get(follower)
            if above is None or norm_id not in above:
                continue
            above.discard(norm_id)
            if not above:
                del left[follower]
                heapq.heappush(ready, (importance(by_id[follower]), follower))
    return PathOrder(tuple(placed), tuple(breaks), builds_on)


# -- From the database ------------------------------------------------------------------


def reading_minutes(words: int) -> int:
    return max(1, math.ceil(words / READING_WPM))


@dataclass
class PathStep:
    norm: Norm
    position: int  # from 1
    words: int
    citations: int
    # The newest material version at or before the version in force: reading that
    # family (or a later one) is reading the text in force.
    in_force_base: int
    # Earlier steps' norms it builds on, by id.
    builds_on: frozenset[int] = frozenset()
    cycle_broken: bool = False

    @property
    def minutes(self) -> int:
        return reading_minutes(self.words)


@dataclass
class NewcomerPath:
    community_id: int
    steps: list[PathStep]

    @property
    def minutes(self) -> int:
        return sum(step.minutes for step in self.steps)

    @cached_property
    def norm_ids(self) -> list[int]:
        """In path order (a path does not change once built: ``steps`` is final)."""
        return [step.norm.id for step in self.steps]

    @property
    def has_cycle(self) -> bool:
        return any(step.cycle_broken for step in self.steps)

    def titles(self, norm_ids: Iterable[int]) -> list[str]:
        """The titles of some of the path's norms, in path order."""
        wanted = set(norm_ids)
        return [step.norm.title for step in self.steps if step.norm.id in wanted]


def _occurrences(text, piece: str):
    """SQL: how many times ``piece`` occurs in ``text``."""
    return (func.length(text) - func.length(func.replace(text, piece, ""))) // len(piece)


def _words(text):
    """SQL: about how many words ``text`` holds: its spaces and line breaks (a blank line
    once) plus one, none for an empty text."""
    breaks = _occurrences(text, " ") + _occurrences(text, "\n") - _occurrences(text, "\n\n")
    return case((func.length(text) > 0, breaks + 1), else_=0)


def _version_in_force_number():
    return func.coalesce(Norm.in_force_version_number, Norm.current_version_number)


def words_in_force_expr():
    """SQL: the words of the version in force (summary, essay, assumptions)."""
    version = aliased(NormVersion)
    assumption_words = (
        select(
            func.coalesce(
                func.sum(_words(Assumption.statement) + _words(Assumption.explanation)), 0
            )
        )
        .where(Assumption.version_id == version.id)
        .correlate(version)
        .scalar_subquery()
    )
    return (
        select(_words(version.summary) + _words(version.body) + assumption_words)
        .where(version.norm_id == Norm.id, version.number == _version_in_force_number())
        .correlate(Norm)
        .scalar_subquery()
    )


def in_force_base_expr():
    """SQL: the newest material version at or before the version in force."""
    return (
        select(func.max(NormVersion.number))
        .where(
            NormVersion.norm_id == Norm.id,
            NormVersion.is_material.is_(True),
            NormVersion.number <= _version_in_force_number(),
        )
        .correlate(Norm)
        .scalar_subquery()
    )


def _edges(session: Session, community_ids: list[int]) -> list[tuple[int, int, int, str]]:
    """(community, norm, prerequisite, the norm's status) for every link of the communities."""
    return [
        tuple(row)
        for row in session.execute(
            select(
                Norm.community_id,
                NormPrerequisite.norm_id,
                NormPrerequisite.prerequisite_id,
                Norm.status,
            )
            .join(Norm, Norm.id == NormPrerequisite.norm_id)
            .where(Norm.community_id.in_(community_ids))
        )
    ]


@dataclass(frozen=True)
class StepFacts:
    """What a path keeps of one step between requests: plain values, no ORM object."""

    norm_id: int
    words: int
    citations: int
    in_force_base: int
    builds_on: frozenset[int]
    cycle_broken: bool


PathFacts = tuple[StepFacts, ...]


def _build_facts(
    session: Session, community_ids: list[int], loaded: dict[int, Norm]
) -> dict[int, PathFacts]:
    """Each community's path as plain steps, in two queries; the norms read go to ``loaded``."""
    rows = session.execute(
        select(Norm, words_in_force_expr(), in_force_base_expr())
        .where(Norm.community_id.in_(community_ids), Norm.status == "in_force")
        .order_by(Norm.id)
    ).all()
    links = _edges(session, community_ids)
    norms: dict[int, list] = defaultdict(list)
    for row in rows:
        norms[row[0].community_id].append(row)
        loaded[row[0].id] = row[0]
    edges: dict[int, list[tuple[int, int]]] = defaultdict(list)
    citing: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for community_id, norm_id, prerequisite_id, status in links:
        edges[community_id].append((norm_id, prerequisite_id))
        if status in CITING_STATUSES:
            citing[community_id].append((norm_id, prerequisite_id))
    return {
        community_id: _path_facts(
            norms[community_id], edges[community_id], citation_counts(citing[community_id])
        )
        for community_id in community_ids
    }


def _path_facts(rows, edges, citations: dict[int, int]) -> PathFacts:
    nodes = [
        PathNode(norm.id, norm.title, norm.created_at, citations.get(norm.id, 0))
        for norm, _, _ in rows
    ]
    order = order_path(nodes, edges)
    by_id = {norm.id: (norm, words, base) for norm, words, base in rows}
    broken = set(order.cycle_breaks)
    facts = []
    for norm_id in order.ids:
        norm, words, base = by_id[norm_id]
        facts.append(
            StepFacts(
                norm_id,
                words or 0,
                citations.get(norm_id, 0),
                base or norm.last_material_version_number,
                order.builds_on.get(norm_id, frozenset()),
                norm_id in broken,
            )
        )
    return tuple(facts)


def path_facts(
    session: Session, community_ids: Iterable[int], loaded: dict[int, Norm] | None = None
) -> dict[int, PathFacts]:
    """Each community's path as plain steps: kept ones (``norms.path_cache``) without a query,
    the others built in two queries (whose norms, when ``loaded`` is given, go there)."""
    ids = sorted(set(community_ids))
    if not ids:
        return {}
    loaded = {} if loaded is None else loaded

    def build(build_session: Session, missing: list[int]) -> dict[int, PathFacts]:
        return _build_facts(build_session, missing, loaded)

    return kept_or_built(path_cache.EXTENSION, session, ids, build)


def _norms_in_force(session: Session, facts: dict[int, PathFacts], loaded: dict[int, Norm]):
    """Load the norms of kept paths into ``loaded``: one query, whatever their number."""
    kept = [cid for cid, steps in facts.items() if any(s.norm_id not in loaded for s in steps)]
    if not kept:
        return
    query = select(Norm).where(Norm.community_id.in_(kept), Norm.status == "in_force")
    loaded.update((norm.id, norm) for norm in session.scalars(query))
    # A norm whose status changed since the path was read (a write committing just then).
    late = [s.norm_id for cid in kept for s in facts[cid] if s.norm_id not in loaded]
    if late:
        query = select(Norm).where(Norm.id.in_(late))
        loaded.update((norm.id, norm) for norm in session.scalars(query))


def load_paths(session: Session, community_ids: Iterable[int]) -> dict[int, NewcomerPath]:
    """The path of each community: two queries for those not kept, one for all kept ones."""
    loaded: dict[int, Norm] = {}
    facts = path_facts(session, community_ids, loaded)
    _norms_in_force(session, facts, loaded)
    return {
        community_id: NewcomerPath(
            community_id,
            [
                PathStep(
                    loaded[step.norm_id],
                    position,
                    step.words,
                    step.citations,
                    step.in_force_base,
                    step.builds_on,
                    step.cycle_broken,
                )
                for position, step in enumerate(steps, start=1)
            ],
        )
        for community_id, steps in facts.items()
    }


def community_path(session: Session, community: Community) -> NewcomerPath:
    return load_paths(session, [community.id])[community.id]


def path_positions(session: Session, community_ids: Iterable[int]) -> dict[int, int]:
    """Each in-force norm's place on its community's path (from 1), by norm id."""
    return {
        step.norm_id: position
        for steps in path_facts(session, community_ids).values()
        for position, step in enumerate(steps, start=1)
    }


@dataclass(frozen=True)
class PathSummary:
    norms: int
    minutes: int


def path_summary(session: Session, community: Community) -> PathSummary:
    """How long the path is, in one query (the community page's pointer to it)."""
    words = session.scalars(
        select(words_in_force_expr()).where(
            Norm.community_id == community.id, Norm.status == "in_force"
        )
    ).all()
    return PathSummary(len(words), sum(reading_minutes(count or 0) for count in words))
