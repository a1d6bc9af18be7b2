"""One batch's facts, as the digest builder's queries found them, and the entries its
members' digests share (no queries here). ``member.MemberDigest`` groups them into
each member's digest.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from normhub.digest.content import SECTIONS, Entry
from normhub.digest.links import Links
from normhub.digest.path_lead import PathLeads
from normhub.norms.refs import CommunityRef, NormRef, norm_ref
from normhub.notifications.batch import MemberSettings
from normhub.responses.services import RevisedSinceResponse

SECTION_RANK = {name: rank for rank, name in enumerate(SECTIONS)}


@dataclass
class BatchFacts:
    """What one batch's queries found, before it is grouped per member."""

    now: datetime
    links: Links
    communities: dict[int, CommunityRef]
    window_starts: dict[int, datetime]
    # Per member, the communities this digest is for (preference matches, not
    # covered by a --community run); ``community_ids`` is all of them.
    member_communities: dict[int, list[int]]
    community_ids: set[int]
    # Every norm met, one reference each (the run's: the builder hands every batch its own).
    norms: dict[int, NormRef] = field(default_factory=dict)
    # Per community: each member's digest looks only at their own communities', which
    # a list of the whole batch's norms made a loop over every norm for every member.
    opened_or_in_force: dict[int, list[NormRef]] = field(default_factory=lambda: defaultdict(list))
    revised: dict[int, list[tuple[NormRef, RevisedSinceResponse]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # Norms close to the gate per community, (norm id, coverage %), and where each
    # member is with them: (user id, norm id) → (material base, exposure level).
    approaching_in: dict[int, list[tuple[int, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    progress: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    # Reply rows (see ``replies_to_members``) and nudges, per member.
    replies: dict[int, list] = field(default_factory=lambda: defaultdict(list))
    nudges: dict[int, list] = field(default_factory=lambda: defaultdict(list))
    # Check rows (see ``checks_about_members``) per member, and the members whose
    # digest also carries checks made outside their digest's communities (the
    # full digest of their shortest period: see ``DigestBuilder._find_checks``).
    checks: dict[int, list] = field(default_factory=lambda: defaultdict(list))
    other_checks_for: set[int] = field(default_factory=set)
    # The notification settings of members who chose some (see ``notifications.batch``).
    settings: dict[int, MemberSettings] = field(default_factory=dict)
    # Per member, the ids of norms they answered on the current text.
    answered: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    # Unread notices of ``NOTICE_KINDS`` (see ``unread_notices``) per member.
    notices: dict[int, list] = field(default_factory=lambda: defaultdict(list))
    # The newcomers' paths, and where they are on them (see ``digest.path_lead``).
    path_leads: PathLeads = field(default_factory=PathLeads)
    # Open review rounds each member was asked and has not answered (``waiting_reviews``).
    reviews: dict[int, list] = field(default_factory=lambda: defaultdict(list))
    _status_news: dict[tuple[int, datetime], list] = field(default_factory=dict, repr=False)
    _approaching_news: dict[int, list] = field(default_factory=dict, repr=False)
    _path_steps: dict[int, tuple[NormRef, Entry]] = field(default_factory=dict, repr=False)
    _openings: dict[int, tuple] = field(default_factory=dict, repr=False)
    _shared: dict[tuple, Entry] = field(default_factory=dict, repr=False)

    @functools.cached_property
    def community_order(self) -> dict[int, str]:
        """What orders the communities in a digest: their names, case aside (computed
        once a batch, not once for every entry of every member's digest)."""
        return {id_: community.name.lower() for id_, community in self.communities.items()}

    @property
    def earliest_start(self) -> datetime:
        return min(self.window_starts.values())

    def status_news(self, community_id: int, start: datetime) -> list[tuple[NormRef, str, Entry]]:
        """The community's norms that opened or came into force in [start, now), each with
        its reason and the shared entry saying so: the same for every member whose
        window starts at ``start`` (most of a batch's), so found once for them all."""
        key = (community_id, start)
        found = self._status_news.get(key)
        if found is None:
            found = self._status_news[key] = []
            for ref in self.opened_or_in_force.get(community_id, ()):
                if start <= ref.status_changed_at < self.now:
                    reason = "opened" if ref.status == "open" else "in_force"
                    found.append((ref, reason, self.shared_entry(ref, (reason,))))
        return found

    def approaching_news(self, community_id: int) -> list[tuple[NormRef, int, Entry]]:
        """The community's norms close to the gate: each with its coverage and the shared
        entry saying so."""
        found = self._approaching_news.get(community_id)
        if found is None:
            found = self._approaching_news[community_id] = [
                (ref, pct, self.shared_entry(ref, ("approaching",), coverage_pct=pct))
                for ref, pct in (
                    (self.norms[norm_id], pct)
                    for norm_id, pct in self.approaching_in.get(community_id, ())
                )
            ]
        return found

    def path_step(self, step) -> tuple[NormRef, Entry]:
        """A step of a path (``PathStep``), with the shared entry leading with it. Keyed
        by the step object: a run's paths, and so their steps, outlive its batches."""
        found = self._path_steps.get(id(step))
        if found is None:
            ref = self.norm(step.norm)
            entry = self.shared_entry(ref, ("start_here",), path_position=step.position)
            found = self._path_steps[id(step)] = (ref, entry)
        return found

    def path_opening(
        self, community_id: int, steps: int
    ) -> tuple[dict[int, Entry], frozenset[int]]:
        """The first ``steps`` steps of the community's path, as the shared entries leading
        with them by norm id, and who wrote those norms."""
        found = self._openings.get(community_id)
        if found is None:
            path = self.path_leads.paths[community_id]
            pairs = [self.path_step(step) for step in path[:steps]]
            found = self._openings[community_id] = (
                {ref.id: entry for ref, entry in pairs},
                frozenset(ref.author_id for ref, _ in pairs),
            )
        return found

    def shared_entry(
        self,
        ref: NormRef,
        reasons: tuple[str, ...],
        path_position: int = 0,
        coverage_pct: int | None = None,
    ) -> Entry:
        """One entry for every member whose digest tells of ``ref`` for these reasons and
        nothing of their own (most of a batch's entries: building one per member was
        half the batch's time). Never changed: a member's digest that adds something of
        its own takes a copy (``MemberDigest``)."""
        key = (ref.id, reasons, path_position, coverage_pct)
        entry = self._shared.get(key)
        if entry is None:
            entry = self._shared[key] = Entry(
                ref,
                self.communities[ref.community_id],
                list(reasons),
                coverage_pct=coverage_pct,
                path_position=path_position,
            )
            entry.order = self.order_of(entry)  # once: every digest holding it sorts by it
        return entry

    def order_of(self, entry: Entry) -> tuple:
        """Where ``entry`` goes in a digest: by section, community name, place on the
        path, title."""
        return (
            SECTION_RANK[entry.section],
            self.community_order[entry.community.id],
            entry.path_position,
            entry.norm.title,
        )

    def norm(self, norm) -> NormRef:
        """The batch's one reference to ``norm`` (a row with NORM_REF_COLUMNS, or a Norm)."""
        ref = self.norms.get(norm.id)
        if ref is None:
            community = self.communities[norm.community_id]
            ref = self.norms[norm.id] = norm_ref(norm, self.links.norm(community.slug, norm.slug))
        return ref
