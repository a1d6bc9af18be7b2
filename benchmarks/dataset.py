"""The synthetic dataset the benchmarks build: bulk rows, drawn from a seeded generator.

People (members of one community each), communities, norms with their versions
and assumptions, and an exposure ledger (events, summaries and the responses they
imply), written with executemany on SQLite and COPY on PostgreSQL after migrating
an empty database. benchmarks/exposure.py and benchmarks/pages.py build on it;
each adds the rows only it needs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from benchmarks.bulk import Progress, Writer
from normhub.exposure.bulk import SUMMARY_COLUMNS

FULL_MEMBERS = 100_000
FULL_NORMS = 2_000
FULL_EVENTS = 5_000_000
MEMBERS_PER_COMMUNITY = 5_000

# Kinds in ledger order; a member's engagement with a norm stops at one of them.
KINDS = ("delivered", "opened", "read", "responded")
LEVELS = ("none", "delivered", "opened", "read", "understood", "endorsed")
# Any argon2 hash will do: nobody logs in as a synthetic member.
PASSWORD_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$c3ludGhldGlj$ZmFrZWZha2VmYWtlZmFrZWZha2VmYWtlZmFrZWZha2U"
)


# --------------------------------------------------------------------------- dataset


USER_COLUMNS = (
    "id",
    "email",
    "display_name",
    "password_hash",
    "bio",
    "is_admin",
    "created_at",
    "handle",
)
COMMUNITY_COLUMNS = (
    "id",
    "slug",
    "name",
    "description",
    "visibility",
    "join_policy",
    "coverage_threshold_pct",
    "coverage_min_responses",
    "created_at",
)
MEMBERSHIP_COLUMNS = ("id", "community_id", "user_id", "role", "joined_at", "left_at")
NORM_COLUMNS = (
    "id",
    "community_id",
    "slug",
    "author_id",
    "status",
    "title",
    "summary",
    "current_version_id",
    "current_version_number",
    "last_material_version_number",
    "created_at",
    "status_changed_at",
    "last_activity_at",
)
VERSION_COLUMNS = (
    "id",
    "norm_id",
    "number",
    "title",
    "summary",
    "body",
    "editor_id",
    "created_at",
    "change_summary",
    "is_material",
)
ASSUMPTION_COLUMNS = ("id", "version_id", "key", "position", "statement", "explanation")
EVENT_COLUMNS = ("id", "user_id", "norm_id", "version_number", "kind", "level", "created_at")
RESPONSE_COLUMNS = (
    "id",
    "user_id",
    "norm_id",
    "version_id",
    "understood",
    "endorsement",
    "reason",
    "created_at",
)

# The load generator cycles through URLs drawn from at most this many engaged pairs.
MAX_PLAN_PAIRS = 200_000


@dataclass
class Ledger:
    """Rows drawn for the exposure ledger; ids are positions in their lists, from 1."""

    events: list[tuple] = field(default_factory=list)
    summaries: list[tuple] = field(default_factory=list)
    responses: list[tuple] = field(default_factory=list)
    plan_pairs: list[tuple[int, int]] = field(default_factory=list)


def insert_people(
    writer: Writer, members: int, community_count: int, epoch: datetime, timed: Progress
) -> dict[int, list[int]]:
    """Users, communities and memberships: member i belongs to community i % C.

    Returns each community's member ids, in id order.
    """
    count = writer.insert(
        "users",
        USER_COLUMNS,
        (
            (
                uid,
                f"member{uid}@bench.invalid",
                f"Member {uid}",
                PASSWORD_HASH,
                "",
                False,
                epoch,
                f"m{uid:011d}",  # unique, in the handle's alphabet and length
            )
            for uid in range(1, members + 1)
        ),
    )
    timed("users", count)
    writer.insert(
        "communities",
        COMMUNITY_COLUMNS,
        (
            (
                cid,
                f"bench-{cid}",
                f"Bench community {cid}",
                "",
                "members" if cid % 2 else "public",
                "open",
                75,
                3,
                epoch,
            )
            for cid in range(1, community_count + 1)
        ),
    )
    community_members: dict[int, list[int]] = {cid: [] for cid in range(1, community_count + 1)}
    for uid in range(1, members + 1):
        community_members[(uid - 1) % community_count + 1].append(uid)
    count = writer.insert(
        "memberships",
        MEMBERSHIP_COLUMNS,
        (
            (
                uid,
                (uid - 1) % community_count + 1,
                uid,
                "admin" if uid <= community_count else "member",
                epoch,
                None,
            )
            for uid in range(1, members + 1)
        ),
    )
    timed("memberships", count)
    return community_members


def round_robin(community_count: int) -> Callable[[int], int]:
    """Norm i goes to community i % C: every community gets as many."""
    return lambda nid: (nid - 1) % community_count + 1


def plan_norms(
    norm_count: int, community_count: int, community_of: Callable[[int], int] | None = None
) -> tuple[list[tuple], list[tuple]]:
    """Norms as (norm_id, community_id, versions, status), versions as (version_id, norm_id,
    number). Every fifth norm has a material second version, so some exposure is stale.
    ``community_of(norm_id)`` places each norm (round robin by default)."""
    community_of = community_of or round_robin(community_count)
    norms = []
    versions = []
    for nid in range(1, norm_count + 1):
        cid = community_of(nid)
        version_count = 2 if nid % 5 == 0 else 1
        status = "in_force" if nid % 3 == 0 else "open"
        norms.append((nid, cid, version_count, status))
        for number in range(1, version_count + 1):
            versions.append((len(versions) + 1, nid, number))
    return norms, versions


def insert_norms(
    writer: Writer,
    norms: list[tuple],
    versions: list[tuple],
    community_members: dict[int, list[int]],
    epoch: datetime,
    assumptions_of: Callable[[int], int] = lambda _vid: 2,
    essay: str = "## Why\n\nBecause.\n",
) -> None:
    """Norms (authored by their community's first member), their versions and assumptions
    (``assumptions_of(version_id)`` of them, two by default), ids in version order."""
    author = {nid: community_members[cid][0] for nid, cid, _vc, _s in norms}
    writer.insert(
        "norms",
        NORM_COLUMNS,
        (
            (
                nid,
                cid,
                f"norm-{nid}",
                author[nid],
                status,
                f"Bench norm {nid}",
                "A synthetic norm.",
                None,
                vc,
                vc,
                epoch,
                epoch,
                epoch,
            )
            for nid, cid, vc, status in norms
        ),
    )
    writer.insert(
        "norm_versions",
        VERSION_COLUMNS,
        (
            (
                vid,
                nid,
                number,
                f"Bench norm {nid}",
                "A synthetic norm.",
                essay,
                author[nid],
                epoch + timedelta(days=number),
                "" if number == 1 else "Reworded the second assumption",
                True,
            )
            for vid, nid, number in versions
        ),
    )
    writer.insert(
        "assumptions",
        ASSUMPTION_COLUMNS,
        (
            (aid, vid, key, key, f"Assumption {key} of version {vid}.", "")
            for aid, vid, key in assumption_rows(versions, assumptions_of)
        ),
    )


def assumption_rows(versions: list[tuple], assumptions_of: Callable[[int], int]):
    """(assumption_id, version_id, key) of every assumption, ids from 1 in version order."""
    aid = 0
    for vid, _nid, _number in versions:
        for key in range(1, assumptions_of(vid) + 1):
            aid += 1
            yield aid, vid, key


def set_current_versions(writer: Writer, versions: list[tuple]) -> None:
    """Point each norm at its newest version (inserted after the norms, which it references)."""
    current_version_id = {}
    for vid, nid, _number in versions:
        current_version_id[nid] = vid
    if writer.is_postgres:
        with writer.conn.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE current_versions (norm_id int, version_id int) ON COMMIT DROP"
            )
            with cur.copy("COPY current_versions FROM STDIN") as copy:
                for row in current_version_id.items():
                    copy.write_row(row)
            cur.execute(
                "UPDATE norms SET current_version_id = cv.version_id "
                "FROM current_versions cv WHERE norms.id = cv.norm_id"
            )
    else:
        writer.conn.executemany(
            "UPDATE norms SET current_version_id = ? WHERE id = ?",
            [(vid, nid) for nid, vid in current_version_id.items()],
        )
    writer.conn.commit()


def insert_prerequisites(writer: Writer, norms: list[tuple], community_count: int) -> None:
    """Every tenth norm builds on the norm before it in the same community."""
    prerequisites = [
        (nid, nid - community_count)
        for nid, _cid, _vc, _s in norms
        if nid % 10 == 0 and nid - community_count >= 1
    ]
    writer.insert("norm_prerequisites", ("norm_id", "prerequisite_id"), prerequisites)


def draw_response(
    rng: random.Random, ledger: Ledger, uid: int, nid: int, vid: int, at: datetime
) -> int:
    """A member's response to the version they saw; returns the exposure level it reaches."""
    understood = rng.choice(("yes", "yes", "yes", "partly"))
    endorsement = rng.choice(("endorse", "endorse", "undecided", "reject"))
    response_id = len(ledger.responses) + 1
    ledger.responses.append((response_id, uid, nid, vid, understood, endorsement, "", at))
    return 3 if understood != "yes" else (5 if endorsement == "endorse" else 4)


def draw_engagement(
    rng: random.Random,
    ledger: Ledger,
    uid: int,
    norm: tuple,
    version_ids: dict[tuple[int, int], int],
    epoch: datetime,
) -> None:
    """One member's 1-4 events with one norm in ledger order, and the summary row they make."""
    nid, _cid, version_count, _status = norm
    depth = rng.randint(1, 4)
    # On two-version norms, a third of members only saw version 1: stale.
    number = 1 if version_count == 2 and rng.random() < 0.33 else version_count
    at = epoch + timedelta(days=number, minutes=rng.randrange(60 * 24 * 200))
    first_at = at
    level = 0
    for kind in KINDS[:depth]:
        if kind == "responded":
            level = draw_response(rng, ledger, uid, nid, version_ids[(nid, number)], at)
        else:
            level = LEVELS.index(kind)
        event_id = len(ledger.events) + 1
        ledger.events.append((event_id, uid, nid, number, kind, LEVELS[level], at))
        at += timedelta(minutes=rng.randrange(1, 600))
    last_at = at - timedelta(minutes=1)
    ledger.summaries.append(
        (
            uid,
            nid,
            first_at,
            last_at,
            number,
            number,
            level,
            number,
            last_at,
            level,
            number,
            last_at,
        )
    )
    if len(ledger.plan_pairs) < MAX_PLAN_PAIRS:
        ledger.plan_pairs.append((nid, uid))


def draw_ledger(
    rng: random.Random,
    norms: list[tuple],
    versions: list[tuple],
    community_members: dict[int, list[int]],
    pairs_per_norm: int,
    epoch: datetime,
) -> Ledger:
    """Each engaged (member, norm) pair got 1-4 events in ledger order; its summary row and
    (for "responded") its response are derived from the same draw, so summaries are
    consistent with events."""
    version_ids = {(nid, number): vid for vid, nid, number in versions}
    ledger = Ledger()
    for norm in norms:
        pool = community_members[norm[1]]
        for uid in rng.sample(pool, min(len(pool), pairs_per_norm)):
            draw_engagement(rng, ledger, uid, norm, version_ids, epoch)
    return ledger


def insert_ledger(writer: Writer, ledger: Ledger, timed: Progress) -> dict[str, int]:
    """Write the ledger's rows, emptying its lists as it goes; returns the row counts."""
    counts = {}
    for table, columns, rows, name in (
        ("exposure_events", EVENT_COLUMNS, ledger.events, "events"),
        ("exposure_summaries", SUMMARY_COLUMNS, ledger.summaries, "summaries"),
        ("responses", RESPONSE_COLUMNS, ledger.responses, "responses"),
    ):
        counts[name] = writer.insert_unindexed(table, columns, rows)
        rows.clear()
        timed(table, counts[name])
    return counts
