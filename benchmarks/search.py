"""Search benchmark: index size and build time, one-write update cost, query latency.

    .venv/bin/python benchmarks/search.py                 # 20,000 norms, 200,000 comments
    .venv/bin/python benchmarks/search.py --scale 0.1     # a tenth of that, for a quick look
    .venv/bin/python benchmarks/search.py --scale 0.25 --compare   # and against plain Whoosh

It builds a synthetic corpus (Zipf-distributed words, phrases, assumptions,
tags, public and members-only communities), stores it in a throw-away SQLite
database (or --database-url), indexes it with the search backend's rebuild
(what ``flask search rebuild`` runs), then measures through the real code paths:

* update: a norm revised with ``revise_norm`` and committed; the time the
  after-commit hook spends indexing it (and the whole commit for context);
* query: ``normhub.search.services.search`` for a member of some private
  communities, including the visibility filter, facets, highlights and the
  "did you mean" check;
* with ``--compare``: the custom matching and scoring against Whoosh's own on
  the same index (see ``search_compare.py``);
* with ``--database postgresql://…``: the PostgreSQL backend beside Whoosh on one
  corpus in a throw-away database there (see ``search_postgres.py``).

Figures are printed and written to benchmarks/results/search.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import search_compare  # noqa: E402
import search_postgres  # noqa: E402
import search_start  # noqa: E402
from sqlalchemy import insert, select, update  # noqa: E402, F401

from normhub import create_app  # noqa: E402
from normhub.accounts.models import User  # noqa: E402
from normhub.cli import upgrade_database  # noqa: E402
from normhub.communities.models import Community, Membership  # noqa: E402
from normhub.discussion.models import Comment  # noqa: E402
from normhub.norms.models import Assumption, Norm, NormTag, NormVersion  # noqa: E402
from normhub.norms.services import AssumptionInput, NormDraft, revise_norm  # noqa: E402
from normhub.search import indexing  # noqa: E402
from normhub.search import services as search_services  # noqa: E402
from normhub.search.backend import backend_for  # noqa: E402
from normhub.search.whoosh import updates as whoosh_updates  # noqa: E402

COMMON_WORDS = [
    "people",
    "community",
    "meeting",
    "shared",
    "kitchen",
    "space",
    "time",
    "rule",
    "norm",
    "members",
    "week",
    "day",
    "night",
    "noise",
    "quiet",
    "respect",
    "clean",
    "cleaning",
    "bins",
    "recycling",
    "compost",
    "garden",
    "balcony",
    "water",
    "energy",
    "heating",
    "bicycle",
    "storage",
    "parking",
    "guests",
    "visitors",
    "children",
    "pets",
    "dogs",
    "music",
    "party",
    "weekend",
    "morning",
    "evening",
    "schedule",
    "rota",
    "duty",
    "volunteer",
    "budget",
    "money",
    "costs",
    "fees",
    "deposit",
    "rent",
    "repair",
    "maintenance",
    "safety",
    "fire",
    "exit",
    "door",
    "keys",
    "lock",
    "access",
    "privacy",
    "photos",
    "camera",
    "consent",
    "data",
    "email",
    "chat",
    "messages",
    "decisions",
    "vote",
    "proposal",
    "agreement",
    "discussion",
    "feedback",
    "review",
    "code",
    "pull",
    "request",
    "deadline",
    "release",
    "documentation",
    "testing",
    "meeting",
    "minutes",
    "agenda",
    "notes",
    "owner",
    "responsibility",
    "trust",
    "fairness",
    "conflict",
    "mediation",
    "complaint",
    "report",
    "harassment",
    "kindness",
    "language",
    "newcomers",
    "onboarding",
    "mentoring",
    "accessibility",
    "wheelchair",
    "lift",
    "stairs",
    "laundry",
    "machines",
    "dryer",
    "towels",
    "dishes",
    "fridge",
    "food",
    "labels",
    "sharing",
    "borrowing",
    "tools",
    "library",
    "books",
    "quiet",
    "study",
    "exam",
    "holiday",
    "summer",
    "winter",
    "snow",
    "ice",
    "path",
    "lights",
    "electricity",
    "solar",
    "internet",
    "wifi",
    "router",
    "password",
    "security",
    "updates",
    "backups",
    "servers",
    "hosting",
    "license",
    "attribution",
    "sources",
    "citations",
    "evidence",
    "statistics",
    "denominator",
    "survey",
]

PHRASES = [
    "quiet hours",
    "shared kitchen",
    "code review",
    "fire exit",
    "pull request",
    "meeting minutes",
    "bicycle storage",
    "recycling bins",
]

TAGS = [
    "safety",
    "noise",
    "kitchen",
    "garden",
    "recycling",
    "budget",
    "privacy",
    "engineering",
    "onboarding",
    "accessibility",
    "pets",
    "parking",
    "energy",
    "events",
    "conflict",
    "security",
    "documentation",
    "testing",
    "governance",
    "food",
    "laundry",
    "guests",
    "children",
    "internet",
    "evidence",
]

FIRST_NAMES = [
    "Ada",
    "Grace",
    "Alan",
    "Barbara",
    "Edsger",
    "Donald",
    "Frances",
    "Margaret",
    "Linus",
    "Radia",
]
LAST_NAMES = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Liskov",
    "Dijkstra",
    "Knuth",
    "Allen",
    "Hamilton",
    "Torvalds",
    "Perlman",
]

SYLLABLES = [a + b for a in "bcdfghklmnprstvwz" for b in ("a", "e", "i", "o", "u", "ai", "ou")]


def pseudo_words(rng: random.Random, count: int) -> list[str]:
    words = set()
    while len(words) < count:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class TextMaker:
    """Zipf-distributed words: common real words first, a long tail of rare ones."""

    def __init__(self, rng: random.Random, tail: int = 20_000):
        self.rng = rng
        self.vocabulary = COMMON_WORDS + pseudo_words(rng, tail)
        weights = [1.0 / (rank + 1) ** 1.07 for rank in range(len(self.vocabulary))]
        total = 0.0
        self.cumulative = []
        for weight in weights:
            total += weight
            self.cumulative.append(total)

    def words(self, count: int) -> list[str]:
        words = self.rng.choices(self.vocabulary, cum_weights=self.cumulative, k=count)
        if count > 12 and self.rng.random() < 0.5:
            words.insert(self.rng.randrange(len(words)), self.rng.choice(PHRASES))
        return words

    def sentence(self, low: int, high: int) -> str:
        words = self.words(self.rng.randint(low, high))
        return " ".join(words).capitalize() + "."

    def paragraph(self, sentences: int) -> str:
        return " ".join(self.sentence(6, 18) for _ in range(sentences))


def generate_and_store(app, norms: int, comments: int, seed: int) -> dict:
    rng = random.Random(seed)
    text = TextMaker(rng)
    sessionmaker = app.extensions["normhub.sessionmaker"]
    session = sessionmaker()
    now = datetime(2026, 1, 1)
    user_count = max(50, norms // 20)
    community_count = max(8, norms // 500)
    users = [
        {
            "id": i,
            "email": f"user{i}@example.org",
            "display_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {i}",
            "password_hash": "!",
        }
        for i in range(1, user_count + 1)
    ]
    communities = [
        {
            "id": i,
            "slug": f"community-{i}",
            "name": f"Community {i}",
            "visibility": "members" if i % 4 == 0 else "public",
            "join_policy": "invite" if i % 4 == 0 else "open",
        }
        for i in range(1, community_count + 1)
    ]
    norm_rows, version_rows, assumption_rows, tag_rows = [], [], [], []
    memberships: set[tuple[int, int]] = set()
    statuses = ["draft", "open", "open", "open", "in_force", "in_force", "retired", "withdrawn"]
    assumption_id = 0
    for norm_id in range(1, norms + 1):
        community_id = rng.randint(1, community_count)
        author_id = rng.randint(1, user_count)
        memberships.add((community_id, author_id))
        title = " ".join(text.words(rng.randint(4, 8))).capitalize()[:150]
        summary = text.sentence(15, 35)
        body = "\n\n".join(
            (f"## {text.sentence(2, 4)}\n\n" if p % 2 == 0 else "") + text.paragraph(4)
            for p in range(rng.randint(2, 5))
        )
        created = now + timedelta(minutes=norm_id)
        status = rng.choice(statuses)
        tags = sorted(set(rng.sample(TAGS, rng.randint(1, 4))))
        norm_rows.append(
            {
                "id": norm_id,
                "community_id": community_id,
                "slug": f"norm-{norm_id}",
                "author_id": author_id,
                "status": status,
                "title": title,
                "summary": summary,
                "current_version_number": 1,
                "last_material_version_number": 1,
                "created_at": created,
                "status_changed_at": created,
                "last_activity_at": created,
            }
        )
        version_rows.append(
            {
                "id": norm_id,
                "norm_id": norm_id,
                "number": 1,
                "title": title,
                "summary": summary,
                "body": body,
                "editor_id": author_id,
                "created_at": created,
                "change_summary": "First version.",
                "is_material": True,
            }
        )
        statements = []
        for position in range(1, rng.randint(3, 6) + 1):
            assumption_id += 1
            statement = text.sentence(8, 20)[:290]
            explanation = text.sentence(10, 30) if rng.random() < 0.5 else ""
            statements.append(f"{statement} {explanation}".strip())
            assumption_rows.append(
                {
                    "id": assumption_id,
                    "version_id": norm_id,
                    "key": position,
                    "position": position,
                    "statement": statement,
                    "explanation": explanation,
                }
            )
        tag_rows.extend({"norm_id": norm_id, "tag": tag} for tag in tags)
    comment_rows = []
    for comment_id in range(1, comments + 1):
        norm = norm_rows[rng.randrange(norms)]
        author_id = rng.randint(1, user_count)
        memberships.add((norm["community_id"], author_id))
        body = text.paragraph(rng.randint(1, 4))
        created = norm["created_at"] + timedelta(minutes=comment_id % 5000)
        comment_rows.append(
            {
                "id": comment_id,
                "norm_id": norm["id"],
                "author_id": author_id,
                "version_id": norm["id"],
                "body": body,
                "created_at": created,
            }
        )
    # A reader who belongs to some members-only communities but not all.
    reader_id = user_count + 1
    users.append(
        {
            "id": reader_id,
            "email": "reader@example.org",
            "display_name": "Benchmark Reader",
            "password_hash": "!",
        }
    )
    for community in communities:
        if community["visibility"] == "members" and community["id"] % 8 == 0:
            memberships.add((community["id"], reader_id))

    app.config["SEARCH_INDEXING"] = False  # the bulk load is indexed below, by a rebuild
    started = time.perf_counter()
    session.execute(insert(User), users)
    session.execute(insert(Community), communities)
    session.execute(
        insert(Membership),
        [{"community_id": c, "user_id": u, "role": "member"} for c, u in sorted(memberships)],
    )
    for chunk in _chunks(norm_rows, 5000):
        session.execute(insert(Norm), chunk)
    for chunk in _chunks(version_rows, 5000):
        session.execute(insert(NormVersion), chunk)
    session.execute(
        update(Norm), [{"id": row["id"], "current_version_id": row["id"]} for row in norm_rows]
    )
    for chunk in _chunks(assumption_rows, 5000):
        session.execute(insert(Assumption), chunk)
    session.execute(insert(NormTag), tag_rows)
    for chunk in _chunks(comment_rows, 10000):
        session.execute(insert(Comment), chunk)
    session.commit()
    session.close()
    app.config["SEARCH_INDEXING"] = True
    return {
        "db_seconds": time.perf_counter() - started,
        "reader_id": reader_id,
        "users": users,
        "communities": communities,
        "norm_count": norms,
    }


def reuse_corpus(app) -> dict:
    session = app.extensions["normhub.sessionmaker"]()
    reader_id = session.scalar(select(User.id).where(User.email == "reader@example.org"))
    users = [
        {"display_name": name}
        for name in session.scalars(select(User.display_name).order_by(User.id).limit(10))
    ]
    session.close()
    return {"reader_id": reader_id, "users": users}


def _chunks(rows: list, size: int):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def build_index(app) -> float:
    """Index the stored corpus as ``flask search rebuild`` does; returns the seconds taken."""
    started = time.perf_counter()
    backend_for(app).rebuild(batch_size=1000)
    return time.perf_counter() - started


def load_average() -> str:
    try:
        return ", ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def measure_updates(app, count: int, norm_count: int, seed: int) -> dict:
    rng = random.Random(seed + 1)
    text = TextMaker(rng, tail=2000)
    index_times: list[float] = []
    index_cpu: list[float] = []
    commit_times: list[float] = []
    real_index_pending = indexing.index_pending

    def timed_index_pending(app_, pending):
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return real_index_pending(app_, pending)
        finally:
            index_times.append(time.perf_counter() - started)
            index_cpu.append(time.process_time() - cpu)

    merges: list[tuple[float, float]] = []
    real_merge = whoosh_updates.merge

    def timed_merge(app_, per_tier=2):
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return real_merge(app_, per_tier)
        finally:
            merges.append((time.perf_counter() - started, time.thread_time() - cpu))

    indexing.index_pending = timed_index_pending
    whoosh_updates.merge = timed_merge
    backend = backend_for(app)
    queued_before = len(backend.stats().pending.norms)
    sessionmaker = app.extensions["normhub.sessionmaker"]
    try:
        for _ in range(count):
            session = sessionmaker()
            norm = session.get(Norm, rng.randint(1, norm_count))
            while norm.status in ("retired", "withdrawn"):
                norm = session.get(Norm, rng.randint(1, norm_count))
            version = session.get(NormVersion, norm.current_version_id)
            draft = NormDraft(
                title=version.title,
                summary=version.summary,
                body=version.body + "\n\n" + text.paragraph(2),
                assumptions=[
                    AssumptionInput(a.statement, a.explanation, a.key) for a in version.assumptions
                ],
                tags=norm.tag_names,
            )
            revise_norm(session, norm, norm.author, draft, "Benchmark revision.", True)
            started = time.perf_counter()
            session.commit()
            commit_times.append(time.perf_counter() - started)
            session.close()
            # A full tier of small segments is merged by a background thread;
            # let it finish so the next update is timed on its own (an update
            # arriving during a merge is queued and applied when it ends).
            whoosh_updates.wait_for_background_merge()
    finally:
        indexing.index_pending = real_index_pending
        whoosh_updates.merge = real_merge
    queued = len(backend.stats().pending.norms) - queued_before
    return {
        "index": index_times,
        "index_cpu": index_cpu,
        "commit": commit_times,
        "merges": merges,
        "queued": queued,
    }


def query_mix(data: dict) -> list[str]:
    author = data["users"][7]["display_name"].split()[0].lower()
    return [
        "meeting",
        "bicycle storage",
        '"quiet hours"',
        "tag:safety",
        "status:in-force noise",
        f"author:{author} kitchen",
        "community:community-3 budget",
        "recycling OR compost",
        "kitchen AND cleaning",
        "meeting NOT minutes",
        "asumptions evidense",
        "recyclng bins",
        "type:comment deadline",
        "privacy data consent",
        "(garden OR balcony) water",
        '"code review" tag:engineering',
        "tag:budget status:open",
        "consent -photos",
        "wheelchair accessibility lift",
        "kitchn",
    ]


def measure_queries(app, data: dict, repeats: int) -> dict:
    sessionmaker = app.extensions["normhub.sessionmaker"]
    rows = []
    all_times: list[float] = []
    all_cpu: list[float] = []
    first_runs: list[float] = []
    with app.app_context():
        session = sessionmaker()
        reader = session.get(User, data["reader_id"])
        for text in query_mix(data):
            started = time.perf_counter()
            search_services.search(session, reader, text)  # first run: fills caches
            first = time.perf_counter() - started
            first_runs.append(first)
            times, cpu_times = [], []
            for _ in range(repeats):
                started, cpu = time.perf_counter(), time.process_time()
                result = search_services.search(session, reader, text)
                times.append(time.perf_counter() - started)
                cpu_times.append(time.process_time() - cpu)
            all_times.extend(times)
            all_cpu.extend(cpu_times)
            rows.append(
                (
                    text,
                    result.total,
                    result.suggestion,
                    statistics.median(times),
                    statistics.median(cpu_times),
                    first,
                    result.total_estimated,
                )
            )
        anonymous = []
        for text in query_mix(data)[:5]:
            started = time.perf_counter()
            search_services.search(session, None, text)
            anonymous.append(time.perf_counter() - started)
        session.close()
    return {"rows": rows, "times": all_times, "cpu": all_cpu, "first": first_runs}


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--norms", type=int, default=20_000)
    parser.add_argument("--comments", type=int, default=200_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply both counts")
    parser.add_argument("--updates", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per query")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database-url",
        "--database",
        help="default: a throw-away SQLite file; postgresql://… compares the PostgreSQL "
        "backend with Whoosh in a throw-away database on that server (search_postgres.py)",
    )
    parser.add_argument("--workdir", help="default: a temporary directory")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the corpus and index already in --workdir (with a postgresql:// "
        "--database: the database kept by --keep, named in full; only PostgreSQL is timed)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="with a postgresql:// database: keep the throw-away database and the Whoosh "
        "index in --workdir, for later runs with --reuse",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also run the queries through Whoosh's own matching and scoring (search_compare.py)",
    )
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "search.md"))
    return parser.parse_args()


def fill(app, args, norms: int, comments: int) -> tuple[dict, float]:
    """The corpus stored and indexed (or reused); returns it and the seconds indexing took."""
    if args.reuse:
        return reuse_corpus(app), float("nan")
    print(f"Generating and storing {norms:,} norms and {comments:,} comments…", flush=True)
    started = time.perf_counter()
    data = generate_and_store(app, norms, comments, args.seed)
    generated = time.perf_counter() - started
    print(f"  generated + stored in {generated:.1f} s (database {data['db_seconds']:.1f} s)")
    print(f"Indexing {norms + comments:,} documents (backend rebuild)…", flush=True)
    return data, build_index(app)


def main() -> None:
    args = parse_args()
    norms = max(10, int(args.norms * args.scale))
    comments = int(args.comments * args.scale)
    documents = norms + comments

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="normhub-search-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if (args.database_url or "").startswith("postgresql"):
        text = TextMaker(random.Random(args.seed + 1), tail=2000)
        helpers = {
            "generate_and_store": generate_and_store,
            "reuse_corpus": reuse_corpus,
            "query_mix": query_mix,
            "measure_queries": measure_queries,
            "percentile": percentile,
            "paragraph": lambda: text.paragraph(2),
        }
        search_postgres.run(args, norms, comments, workdir, helpers)
        return
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    upgrade_database(database_url)
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SEARCH_INDEX_DIR": str(workdir / "search-index"),
            "SERVER_NAME": "normhub.bench",
        },
        instance_path=str(workdir),
    )
    data, index_seconds = fill(app, args, norms, comments)
    index_size = sum(f.stat().st_size for f in (workdir / "search-index").iterdir())
    print(f"  index size {index_size / 1e6:.0f} MB, built in {index_seconds:.1f} s")

    with app.app_context():
        cold = measure_queries(app, data, args.repeats)
    print("First queries after a worker starts, without and with its warm-up…", flush=True)
    started = search_start.first_queries_after_start(app, data["reader_id"], query_mix(data))
    print(f"Revising and committing {args.updates} norms…", flush=True)
    with app.app_context():
        updates = measure_updates(app, args.updates, norms, args.seed)
    segments = backend_for(app).stats().segments
    after = measure_queries(app, data, args.repeats)
    lines = report(
        args,
        {
            "norms": norms,
            "comments": comments,
            "documents": documents,
            "database_url": database_url,
            "index_size": index_size,
            "index_seconds": index_seconds,
            "updates": updates,
            "segments": segments,
            "cold": cold,
            "started": started,
            "after": after,
        },
    )
    if args.compare:
        print("Comparing with Whoosh's own matching and scoring…", flush=True)
        rows = search_compare.compare(app, data["reader_id"], query_mix(data), args.repeats)
        scale = f"{documents:,} documents (`--scale {args.scale:g}`)"
        lines.extend(search_compare.report_lines(rows, scale, segments))
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(f"Wrote {args.out}")


def ms(values, pct):
    return percentile(values, pct) * 1000


def report(args, run: dict) -> list[str]:
    """The results file's main section, from what ``main`` measured."""
    norms, comments, documents = run["norms"], run["comments"], run["documents"]
    updates, cold, after = run["updates"], run["cold"], run["after"]
    started = run["started"]
    index_size, index_seconds, segments = run["index_size"], run["index_seconds"], run["segments"]
    database = "SQLite" if run["database_url"].startswith("sqlite") else "PostgreSQL"
    lines = [
        "# Search benchmark",
        "",
        f"Run: `.venv/bin/python benchmarks/search.py --norms {norms} --comments {comments}"
        f"{' --compare' if args.compare else ''}` "
        f"on {datetime.now().strftime('%Y-%m-%d %H:%M')} ({database}).",
        "",
        f"- Documents: {documents:,} ({norms:,} norms, {comments:,} comments), index "
        f"{index_size / 1e6:.0f} MB; "
        + (
            "corpus and index reused from an earlier run of this script (`--reuse`)."
            if args.reuse
            else f"indexed by the backend's rebuild (the path `flask search rebuild` takes) "
            f"in {index_seconds:.1f} s."
        ),
        f"- Update after one write (revise_norm + commit, {args.updates} runs): "
        f"after-commit indexing wall p50 {ms(updates['index'], 50):.1f} ms, "
        f"p95 {ms(updates['index'], 95):.1f} ms (CPU p50 {ms(updates['index_cpu'], 50):.1f} ms, "
        f"p95 {ms(updates['index_cpu'], 95):.1f} ms); whole commit incl. indexing wall p50 "
        f"{ms(updates['commit'], 50):.1f} ms, p95 {ms(updates['commit'], 95):.1f} ms.",
        f"- Slowest update: {max(updates['index']) * 1000:.1f} ms wall, "
        f"{max(updates['index_cpu']) * 1000:.1f} ms CPU. Updates never merge segments; "
        f"ids queued because a merge was running: {updates['queued']}.",
        f"- Background merges of a full tier of small segments (outside the timed "
        f"updates, which wait for them to end): {len(updates['merges'])}"
        + (
            f", wall {', '.join(f'{w * 1000:.0f}' for w, _ in updates['merges'])} ms, "
            f"CPU {', '.join(f'{c * 1000:.0f}' for _, c in updates['merges'])} ms."
            if updates["merges"]
            else "."
        ),
        f"- Segments after the updates: {segments}.",
        f"- Query latency, optimized index ({len(cold['rows'])} queries x {args.repeats} runs): "
        f"wall p50 {ms(cold['times'], 50):.1f} ms, p95 {ms(cold['times'], 95):.1f} ms; "
        f"CPU p50 {ms(cold['cpu'], 50):.1f} ms, p95 {ms(cold['cpu'], 95):.1f} ms.",
        f"- Query latency after the updates: wall p50 {ms(after['times'], 50):.1f} ms, "
        f"p95 {ms(after['times'], 95):.1f} ms; CPU p50 {ms(after['cpu'], 50):.1f} ms, "
        f"p95 {ms(after['cpu'], 95):.1f} ms.",
        f"- First run of each query (cold caches: per-segment value sets, phrase "
        f"sets, recently used term sets), optimized index: wall p50 "
        f"{ms(cold['first'], 50):.1f} ms, p95 {ms(cold['first'], 95):.1f} ms, "
        f"max {max(cold['first']) * 1000:.1f} ms.",
        f"- First query after a worker starts (each query of the mix once, in a worker "
        f"with empty caches): without warm-up p50 {ms(started['cold'], 50):.1f} ms, "
        f"p95 {ms(started['cold'], 95):.1f} ms; after the worker's warm-up p50 "
        f"{ms(started['warmed'], 50):.1f} ms, p95 {ms(started['warmed'], 95):.1f} ms "
        f"(floor 100 ms: {'met' if ms(started['warmed'], 95) < 100 else 'NOT met'}); "
        f"the warm-up itself p50 {ms(started['warm_up'], 50):.0f} ms, before the worker "
        f"takes requests.",
        f"- Machine load average while running: {load_average()}.",
        "",
        "Queries run by a member of some members-only communities, through "
        "`services.search` (visibility filter, facets, highlights, suggestion check, "
        "database refresh of the page):",
        "",
        "| query | hits | suggestion | median wall ms | median CPU ms | first run wall ms |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for text, total, suggestion, median, median_cpu, first, _estimated in after["rows"]:
        shown = text.replace("|", "\\|")
        lines.append(
            f"| `{shown}` | {total:,} | {suggestion or ''} | {median * 1000:.1f} "
            f"| {median_cpu * 1000:.1f} | {first * 1000:.1f} |"
        )
    return lines


if __name__ == "__main__":
    main()
