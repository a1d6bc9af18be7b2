"""The page benchmark's dataset: benchmarks/dataset.py's people, norms and ledger, plus
what the pages show and the exposure benchmark never reads.

On top of the shared rows (members, communities, norms, versions, the exposure
ledger and its responses) it adds: up to 12 assumptions a version and an answer
per assumption in every response; tags; comments, a third of them replies and a
quarter about an assumption, with one norm holding HEAVY_COMMENTS of them; one
member who logs in with a known password, in a public and a members-only
community; and the search index, built as ``flask search rebuild`` builds it.

Half the norms sit in one public community (BIG_COMMUNITY) so that its norm list
has a page 50 at full scale; the rest are spread round robin.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher

from benchmarks.bulk import Progress, Writer
from benchmarks.dataset import (
    FULL_EVENTS,
    FULL_MEMBERS,
    FULL_NORMS,
    MEMBERS_PER_COMMUNITY,
    assumption_rows,
    draw_ledger,
    insert_ledger,
    insert_norms,
    insert_people,
    insert_prerequisites,
    plan_norms,
    set_current_versions,
)

FULL_COMMENTS = 200_000
HEAVY_COMMENTS = 300
MAX_ASSUMPTIONS = 12
# Public (even ids are public in benchmarks/dataset.py), and the home of half the norms.
BIG_COMMUNITY = 2
MEMBERS_ONLY_COMMUNITY = 1
# In BIG_COMMUNITY (odd ids are): the long thread, and a norm like most.
HEAVY_NORM = 1
TYPICAL_NORM = 7
LOGIN_PASSWORD = "a long benchmark passphrase"  # noqa: S105 (a throw-away database)
TAGS = (
    "noise",
    "kitchen",
    "safety",
    "budget",
    "garden",
    "meetings",
    "privacy",
    "cleaning",
    "bicycles",
    "guests",
    "pets",
    "recycling",
)
TABLES_WITH_IDS = [
    "users",
    "communities",
    "memberships",
    "norms",
    "norm_versions",
    "assumptions",
    "exposure_events",
    "responses",
    "assumption_responses",
    "comments",
]
COMMENT_COLUMNS = (
    "id",
    "norm_id",
    "author_id",
    "parent_id",
    "version_id",
    "assumption_key",
    "body",
    "created_at",
    "edited_at",
    "hidden_at",
    "hidden_by_id",
)
ASSUMPTION_RESPONSE_COLUMNS = (
    "id",
    "response_id",
    "assumption_id",
    "understood",
    "agreement",
    "reason",
)
ESSAY = """## Why this norm

Shared spaces work when everyone knows what to expect. This norm writes down what
most of us **already do**, so that newcomers can learn it without guessing, and so
that a disagreement can point at a sentence instead of at a person.

## What we ask

1. Keep the shared kitchen usable for the next person: wash up, wipe the counter.
2. Quiet hours are from 22:00 to 07:00 on weekdays, and until 09:00 at weekends.
3. Bicycles go in the storage room, never in the corridor: it is the fire escape.

## How we will know it works

If the *weekly meeting* hears fewer complaints about the kitchen and the corridor
after three months, the norm is doing its job; if not, we revise it. See the
[house rules](https://example.org/house-rules) for the older wording.
"""
WORDS = (  # noqa: SIM905 (a list of words is easier to read as a line of them)
    "kitchen meeting quiet hours bicycle storage corridor budget garden noise guests "
    "recycling compost cleaning rota weekend evening neighbours consent privacy photos "
    "deadline minutes agenda steward proposal evidence assumption wording example"
).split()


@dataclass(frozen=True)
class Sizes:
    members: int
    communities: int
    norms: int
    events: int
    comments: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        members = max(200, int(FULL_MEMBERS * scale))
        norms = max(10, int(FULL_NORMS * scale))
        return cls(
            members=members,
            communities=max(2, round(members / MEMBERS_PER_COMMUNITY)),
            norms=norms,
            events=max(1000, int(FULL_EVENTS * scale)),
            # The long thread is there at every scale; the rest keep about 100 a norm.
            comments=max(HEAVY_COMMENTS + 100 * (norms - 1), int(FULL_COMMENTS * scale)),
        )


def half_in_big_community(community_count: int):
    """Odd norm ids go to BIG_COMMUNITY, even ones round robin over every community."""
    return lambda nid: BIG_COMMUNITY if nid % 2 else (nid // 2 - 1) % community_count + 1


def assumptions_of(heavy_version_ids: set[int]):
    """1 to MAX_ASSUMPTIONS a version, the long thread's norm the most."""
    return lambda vid: MAX_ASSUMPTIONS if vid in heavy_version_ids else 1 + (vid * 7) % 12


def comment_body(rng: random.Random, number: int) -> str:
    """A few sentences of Markdown: a paragraph or two, now and then emphasis, a list, a link."""
    sentences = [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 18))).capitalize() + "."
        for _ in range(rng.randint(2, 6))
    ]
    body = " ".join(sentences[: len(sentences) // 2 + 1])
    rest = " ".join(sentences[len(sentences) // 2 + 1 :])
    if rest:
        body += "\n\n" + rest
    if number % 4 == 0:
        body += f"\n\n- **{rng.choice(WORDS)}** first\n- then *{rng.choice(WORDS)}*"
    if number % 7 == 0:
        body += "\n\nSee [the minutes](https://example.org/minutes) for the details."
    return body


def draw_comments(
    rng: random.Random,
    sizes: Sizes,
    norms: list[tuple],
    versions: list[tuple],
    community_members: dict[int, list[int]],
    epoch: datetime,
):
    """Comment rows: HEAVY_COMMENTS on HEAVY_NORM, the rest spread over the other norms."""
    current_version = {nid: vid for vid, nid, _number in versions}
    assumption_count = assumptions_of({current_version[HEAVY_NORM]})
    community = {nid: cid for nid, cid, _vc, _s in norms}
    others = [nid for nid, _cid, _vc, _s in norms if nid != HEAVY_NORM]
    placed = [HEAVY_NORM] * HEAVY_COMMENTS + [
        rng.choice(others) for _ in range(sizes.comments - HEAVY_COMMENTS)
    ]
    earlier: dict[int, list[int]] = {}
    for cid, nid in enumerate(placed, start=1):
        vid = current_version[nid]
        siblings = earlier.setdefault(nid, [])
        parent = rng.choice(siblings) if siblings and rng.random() < 0.33 else None
        key = rng.randint(1, assumption_count(vid)) if rng.random() < 0.25 else None
        author = rng.choice(community_members[community[nid]])
        at = epoch + timedelta(days=30, minutes=cid)
        siblings.append(cid)
        yield (cid, nid, author, parent, vid, key, comment_body(rng, cid), at, None, None, None)


def assumption_answers(responses: list[tuple], versions: list[tuple], assumption_count):
    """An answer to every assumption of the version each response was given on
    (``responses`` as (response_id, version_id, understood, endorsement))."""
    first_assumption: dict[int, int] = {}
    for aid, vid, key in assumption_rows(versions, assumption_count):
        if key == 1:
            first_assumption[vid] = aid
    agreement = {"endorse": "agree", "undecided": "unsure", "reject": "disagree"}
    row_id = 0
    for response_id, vid, understood, endorsement in responses:
        for key in range(assumption_count(vid)):
            row_id += 1
            # Most answers follow the overall one; every fifth assumption splits opinion.
            agrees = "unsure" if (response_id + key) % 5 == 0 else agreement[endorsement]
            yield (row_id, response_id, first_assumption[vid] + key, understood, agrees, "")


def insert_tags(writer: Writer, norms: list[tuple]) -> int:
    return writer.insert(
        "norm_tags",
        ("norm_id", "tag"),
        (
            (nid, TAGS[(nid + offset * 5) % len(TAGS)])
            for nid, _cid, _vc, _s in norms
            for offset in range(1 + nid % 3)
        ),
    )


def add_login_member(writer: Writer, community_members: dict[int, list[int]], members: int):
    """A regular member of BIG_COMMUNITY who can log in, also in the members-only one."""
    uid = community_members[BIG_COMMUNITY][10]
    password_hash = PasswordHasher().hash(LOGIN_PASSWORD)
    marker = "%s" if writer.is_postgres else "?"
    writer.execute(
        f"UPDATE users SET password_hash = {marker}, email_verified_at = {marker} "  # noqa: S608
        f"WHERE id = {marker}",
        (password_hash, datetime(2026, 1, 2), uid),
    )
    writer.insert(
        "memberships",
        ("id", "community_id", "user_id", "role", "joined_at", "left_at"),
        [(members + 1, MEMBERS_ONLY_COMMUNITY, uid, "member", datetime(2026, 1, 2), None)],
    )
    return {"user_id": uid, "email": f"member{uid}@bench.invalid", "password": LOGIN_PASSWORD}


def build_dataset(url: str, scale: float, seed: int = 11) -> dict:
    """Fill a freshly migrated database; returns what the benchmark needs to know of it."""
    rng = random.Random(seed)
    sizes = Sizes.at(scale)
    epoch = datetime(2026, 1, 1)
    writer = Writer(url)
    timed = Progress()

    community_members = insert_people(writer, sizes.members, sizes.communities, epoch, timed)
    norms, versions = plan_norms(
        sizes.norms, sizes.communities, half_in_big_community(sizes.communities)
    )
    heavy_versions = {vid for vid, nid, _number in versions if nid == HEAVY_NORM}
    assumption_count = assumptions_of(heavy_versions)
    insert_norms(writer, norms, versions, community_members, epoch, assumption_count, ESSAY)
    set_current_versions(writer, versions)
    insert_prerequisites(writer, norms, sizes.communities)
    tags = insert_tags(writer, norms)
    timed("norms, versions, assumptions, tags", len(norms))

    pairs_per_norm = max(1, round(sizes.events / 2.5 / sizes.norms))
    ledger = draw_ledger(rng, norms, versions, community_members, pairs_per_norm, epoch)
    # What the answers need of each response (insert_ledger empties the ledger's lists).
    responses = [(row[0], row[3], row[4], row[5]) for row in ledger.responses]
    counts = insert_ledger(writer, ledger, timed)
    answers = writer.insert_unindexed(
        "assumption_responses",
        ASSUMPTION_RESPONSE_COLUMNS,
        assumption_answers(responses, versions, assumption_count),
    )
    del responses
    timed("assumption_responses", answers)

    comments = writer.insert_unindexed(
        "comments",
        COMMENT_COLUMNS,
        draw_comments(rng, sizes, norms, versions, community_members, epoch),
    )
    timed("comments", comments)
    login = add_login_member(writer, community_members, sizes.members)
    writer.finish(TABLES_WITH_IDS)
    timed("login member and ANALYZE", 1)
    big_community_norms = sum(1 for _nid, cid, _vc, _s in norms if cid == BIG_COMMUNITY)
    return {
        "members": sizes.members,
        "communities": sizes.communities,
        "norms": sizes.norms,
        "big_community_norms": big_community_norms,
        "assumptions": sum(assumption_count(vid) for vid, _nid, _n in versions),
        "tags": tags,
        "comments": comments,
        "events": counts["events"],
        "responses": counts["responses"],
        "assumption_responses": answers,
        "login": login,
        "build_seconds": round(timed.elapsed(), 1),
    }


def build_search_index(url: str, instance: Path, secret_key: str) -> tuple[int, float]:
    """Index every norm and comment as ``flask search rebuild`` does; (documents, seconds)."""
    from normhub import create_app
    from normhub.db import dispose_engines
    from normhub.search.backend import backend_for

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secret_key}, instance_path=str(instance))
    timed = Progress()
    with app.app_context():
        documents = backend_for(app).rebuild(batch_size=1000)
    dispose_engines(app)
    return documents, round(timed.elapsed(), 1)


def cook_markdown(url: str, instance: Path, secret_key: str) -> tuple[int, float]:
    """Store the HTML of every Markdown text, as ``flask markdown recook`` does after a
    bulk import; (rows, seconds). Pages then read what a live site's writes would have
    stored, not the slower path for rows never cooked."""
    from normhub import create_app
    from normhub.cooked import recook_all
    from normhub.db import dispose_engines, session_scope

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secret_key}, instance_path=str(instance))
    timed = Progress()
    with app.app_context():
        counts = recook_all(
            lambda: session_scope(app),
            everything=False,
            batch_size=2000,
            progress=lambda _column, _rows: None,
        )
    dispose_engines(app)
    return sum(counts.values()), round(timed.elapsed(), 1)
