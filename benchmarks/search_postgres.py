"""``benchmarks/search.py --database postgresql://…``: the PostgreSQL backend beside Whoosh.

One corpus, bulk-loaded into a throw-away database on the given server, indexed
by both backends (each with its rebuild, the path ``flask search rebuild``
takes), then in the same run:

* query latency of ``services.search`` (visibility, facets, snippets, the
  "did you mean" check, the page's refresh from the database) for each backend,
  warm (the first run of each query is reported apart);
* the time one write's documents take, PostgreSQL: ``index_within`` in the
  writer's transaction (the whole commit beside it); Whoosh: after the commit;
* relevance: on 50 fixed queries, the share of Whoosh's top 10 that PostgreSQL
  also has in its top 10.

Figures go to benchmarks/results/search-postgresql.md with a line per floor.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import text as sql
from sqlalchemy.engine import make_url

from normhub import create_app
from normhub.accounts.models import User
from normhub.cli import upgrade_database
from normhub.db import dispose_engines, make_engine
from normhub.norms.models import Norm, NormVersion
from normhub.norms.services import AssumptionInput, NormDraft, revise_norm
from normhub.search.backend import backend_for
from normhub.search.postgres.backend import PostgresBackend
from normhub.search.postgres.counting import EXACT_UP_TO, SAMPLE_ROWS
from normhub.search.query import build_query
from normhub.search.services import visible_communities

FLOOR_P95_MS = 50.0
FLOOR_UPDATE_MS = 50.0
AIM_OVERLAP = 0.70
# Tables bulk-loaded with explicit ids: their sequences must move past them.
SEQUENCED = ("users", "communities", "norms", "norm_versions", "assumptions", "comments")


def relevance_queries(mix: list[str]) -> list[str]:
    """50 fixed queries: the latency mix, then single words, pairs and phrases."""
    singles = [
        "kitchen", "noise", "garden", "parking", "privacy", "budget", "guests", "repair",
        "heating", "compost", "volunteer", "deposit", "camera", "children", "storage",
    ]  # fmt: skip
    pairs = [
        "shared kitchen cleaning", "quiet night", "bicycle parking", "water energy",
        "pets dogs", "party music weekend", "fire exit door", "rent deposit",
        "members decisions", "photos consent",
    ]  # fmt: skip
    phrases = ['"fire exit"', '"meeting minutes"', '"pull request"', '"recycling bins"', "rota"]
    queries = [*mix, *singles, *pairs, *phrases]
    return queries[:50]


# --- the database ------------------------------------------------------------------------


def throwaway_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """A new database on the server of ``server_url``, and how to drop it."""
    server = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"normhub_search_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sql(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def move_sequences_past_bulk_rows(app) -> None:
    with app.extensions["normhub.engine"].begin() as connection:
        for table in SEQUENCED:
            connection.execute(
                sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
            )
        connection.execute(sql("ANALYZE"))


def make_app(database_url: str, workdir: Path, backend: str):
    return create_app(
        {
            "DATABASE_URL": database_url,
            "SEARCH_BACKEND": backend,
            "SEARCH_INDEX_DIR": str(workdir / "search-index"),
            "SERVER_NAME": "normhub.bench",
        },
        instance_path=str(workdir),
    )


# --- measuring -------------------------------------------------------------------------------


def timed(function: Callable) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def measure_writes(app, count: int, norm_count: int, paragraph: Callable[[], str]) -> dict:
    """Revise ``count`` norms through the real service; time the search write and the commit."""
    search_times: list[float] = []
    commit_times: list[float] = []
    backend = backend_for(app)
    in_transaction = isinstance(backend, PostgresBackend)
    original = PostgresBackend.index_within if in_transaction else type(backend).index

    def timed_write(self, *args):
        started = time.perf_counter()
        try:
            return original(self, *args)
        finally:
            search_times.append(time.perf_counter() - started)

    target = PostgresBackend if in_transaction else type(backend)
    setattr(target, "index_within" if in_transaction else "index", timed_write)
    sessionmaker = app.extensions["normhub.sessionmaker"]
    try:
        with app.app_context():
            for n in range(count):
                session = sessionmaker()
                norm = session.get(Norm, 1 + (n * 7919) % norm_count)
                while norm.status in ("retired", "withdrawn"):
                    norm = session.get(Norm, norm.id % norm_count + 1)
                version = session.get(NormVersion, norm.current_version_id)
                draft = NormDraft(
                    title=version.title,
                    summary=version.summary,
                    body=version.body + "\n\n" + paragraph(),
                    assumptions=[
                        AssumptionInput(a.statement, a.explanation, a.key)
                        for a in version.assumptions
                    ],
                    tags=norm.tag_names,
                )
                revise_norm(session, norm, norm.author, draft, "Benchmark revision.", True)
                commit_times.append(timed(session.commit))
                session.close()
    finally:
        setattr(target, "index_within" if in_transaction else "index", original)
    return {"search": search_times, "commit": commit_times}


def top_ids(app, reader_id: int, text: str) -> list[str]:
    with app.app_context():
        session = app.extensions["normhub.sessionmaker"]()
        reader = session.get(User, reader_id)
        communities = visible_communities(session, reader)
        session.close()
    result = backend_for(app).search(build_query(text, {}, communities, per_page=10))
    return [
        f"comment:{hit.comment_id}" if hit.kind == "comment" else f"norm:{hit.norm_id}"
        for hit in result.hits
    ]


def relevance(postgres_app, whoosh_app, reader_id: int, queries: list[str]) -> list[tuple]:
    """Per query: Whoosh's top-10 size, how many of them PostgreSQL's top 10 has."""
    rows = []
    for text in queries:
        theirs = top_ids(whoosh_app, reader_id, text)
        ours = top_ids(postgres_app, reader_id, text)
        rows.append((text, len(theirs), len(set(theirs) & set(ours)), len(ours)))
    return rows


# --- the run --------------------------------------------------------------------------------


def build(args, norms: int, comments: int, apps: tuple, helpers: dict) -> tuple[dict, dict]:
    """The corpus loaded and indexed by both backends; returns it and the build figures."""
    postgres_app, whoosh_app = apps
    print(f"Generating and storing {norms:,} norms and {comments:,} comments…", flush=True)
    data = helpers["generate_and_store"](postgres_app, norms, comments, args.seed)
    move_sequences_past_bulk_rows(postgres_app)
    figures: dict = {"load": data["db_seconds"]}
    for name, app in (("postgres", postgres_app), ("whoosh", whoosh_app)):
        print(f"Indexing with {name}…", flush=True)
        figures[f"{name}_build"] = timed(lambda app=app: backend_for(app).rebuild(1000))
    return data, figures


def run(args, norms: int, comments: int, workdir: Path, helpers: dict) -> None:
    """The full comparison; with ``--reuse`` the database named by ``--database`` and the
    Whoosh index in ``--workdir`` (both kept by an earlier ``--keep``) are searched as they
    are, and only PostgreSQL is timed: quick turns while tuning queries."""
    if args.reuse:
        database_url, drop = args.database_url, lambda: None
    else:
        database_url, drop = throwaway_database(args.database_url)
    if args.keep:
        drop = lambda: print(f"Kept {database_url} and {workdir}")  # noqa: E731
    apps = []
    try:
        upgrade_database(database_url)
        postgres_app = make_app(database_url, workdir, "postgres")
        whoosh_app = make_app(database_url, workdir, "whoosh")
        apps = [postgres_app, whoosh_app]
        if args.reuse:
            data, figures = helpers["reuse_corpus"](postgres_app), {}
        else:
            data, figures = build(args, norms, comments, (postgres_app, whoosh_app), helpers)
        figures.update(norms=norms, comments=comments)
        with postgres_app.extensions["normhub.engine"].begin() as connection:
            connection.execute(sql("ANALYZE"))
            figures["table_mb"] = connection.scalar(
                sql("SELECT pg_total_relation_size('search_documents') / 1e6")
            )
        mix = helpers["query_mix"](data)
        print("Comparing relevance…", flush=True)
        figures["relevance"] = relevance(
            postgres_app, whoosh_app, data["reader_id"], relevance_queries(mix)
        )
        timed_apps = (("postgres", postgres_app), ("whoosh", whoosh_app))
        for name, app in timed_apps[:1] if args.reuse else timed_apps:
            print(f"Timing queries with {name}…", flush=True)
            with app.app_context():
                figures[f"{name}_queries"] = helpers["measure_queries"](app, data, args.repeats)
        if args.reuse:
            print("\n".join(quick_report(figures, helpers["percentile"])))
            return
        paragraph = helpers["paragraph"]
        for name, app in (("whoosh", whoosh_app), ("postgres", postgres_app)):
            print(f"Timing {args.updates} writes with {name}…", flush=True)
            figures[f"{name}_writes"] = measure_writes(app, args.updates, norms, paragraph)
        lines = report(args, figures, helpers["percentile"])
    finally:
        for app in apps:
            dispose_engines(app)
        drop()
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    out = Path(args.out)
    if out.name == "search.md":
        out = out.with_name("search-postgresql.md")
    out.write_text(text)
    print(f"Wrote {out}")


def hits(row: tuple) -> str:
    """A query's total as the page shows it: "about" when it was estimated."""
    return f"about {row[1]:,}" if row[6] else f"{row[1]:,}"


def overlap_of(rel: list[tuple]) -> float:
    counted = [row for row in rel if row[1]]
    return sum(row[2] for row in counted) / max(1, sum(row[1] for row in counted))


def quick_report(figures: dict, percentile: Callable) -> list[str]:
    """PostgreSQL's figures alone, printed by a ``--reuse`` run (no file is written)."""
    times = figures["postgres_queries"]["times"]
    lines = [
        f"PostgreSQL warm p50 {percentile(times, 50) * 1000:.1f} ms, "
        f"p95 {percentile(times, 95) * 1000:.1f} ms; "
        f"top-10 overlap with Whoosh {overlap_of(figures['relevance']):.0%}"
    ]
    for row in figures["postgres_queries"]["rows"]:
        lines.append(f"  {row[3] * 1000:7.1f} ms {hits(row):>15}  {row[0]}")
    lines.append(
        "  relevance (Whoosh top 10, shared): "
        + ", ".join(f"{text} {shared}/{theirs}" for text, theirs, shared, _ in figures["relevance"])
    )
    return lines


def load_average() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def report(args, figures: dict, percentile: Callable) -> list[str]:
    def ms(values: list[float], pct: float) -> float:
        return percentile(values, pct) * 1000

    pg_q, wh_q = figures["postgres_queries"], figures["whoosh_queries"]
    pg_w, wh_w = figures["postgres_writes"], figures["whoosh_writes"]
    rel = figures["relevance"]
    counted = [row for row in rel if row[1]]
    overlap = sum(row[2] for row in counted) / max(1, sum(row[1] for row in counted))
    per_query = statistics.mean(row[2] / row[1] for row in counted) if counted else 0.0
    p95 = ms(pg_q["times"], 95)
    update_p95 = ms(pg_w["search"], 95)

    def floor(met: bool) -> str:
        return "met" if met else "NOT met"

    lines = [
        "# Search benchmark: PostgreSQL backend beside Whoosh",
        "",
        f"Run: `.venv/bin/python benchmarks/search.py --database postgresql://… "
        f"--norms {figures['norms']} --comments {figures['comments']}` on "
        f"{datetime.now().strftime('%Y-%m-%d %H:%M')}; one corpus in a throw-away "
        f"PostgreSQL database, indexed by both backends.",
        "",
        f"- Corpus: {figures['norms']:,} norms, {figures['comments']:,} comments, bulk-loaded "
        f"in {figures['load']:.1f} s (sequences moved past the loaded ids).",
        f"- Rebuild: PostgreSQL {figures['postgres_build']:.1f} s "
        f"(search_documents {figures['table_mb']:.0f} MB with its indexes), "
        f"Whoosh {figures['whoosh_build']:.1f} s.",
        f"- Queries, warm ({len(pg_q['rows'])} queries x {args.repeats} runs): PostgreSQL "
        f"p50 {ms(pg_q['times'], 50):.1f} ms, p95 {p95:.1f} ms; Whoosh p50 "
        f"{ms(wh_q['times'], 50):.1f} ms, p95 {ms(wh_q['times'], 95):.1f} ms.",
        f"- First run of each query: PostgreSQL p50 {ms(pg_q['first'], 50):.1f} ms, "
        f"max {max(pg_q['first']) * 1000:.1f} ms; Whoosh p50 {ms(wh_q['first'], 50):.1f} ms, "
        f"max {max(wh_q['first']) * 1000:.1f} ms.",
        f"- One write's documents ({args.updates} revisions): PostgreSQL in the writer's "
        f"transaction p50 {ms(pg_w['search'], 50):.1f} ms, p95 {update_p95:.1f} ms (whole "
        f"commit p50 {ms(pg_w['commit'], 50):.1f} ms, p95 {ms(pg_w['commit'], 95):.1f} ms); "
        f"Whoosh after the commit p50 {ms(wh_w['search'], 50):.1f} ms, "
        f"p95 {ms(wh_w['search'], 95):.1f} ms.",
        f"- Machine load average at the end: {load_average()} (2 cores, shared).",
        f"- PostgreSQL counts up to {EXACT_UP_TO:,} matches exactly; beyond that the total and "
        f"the facet counts are estimated from a sample of about {SAMPLE_ROWS:,} rows and shown "
        f'as "about" (the hits column says which). Whoosh counts every match.',
        f"- Relevance, {len(rel)} fixed queries ({len(counted)} with Whoosh hits): "
        f"{overlap:.0%} of Whoosh's top 10 are in PostgreSQL's top 10 "
        f"(mean per query {per_query:.0%}).",
        "",
        "Floors:",
        "",
        f"- Query p95 under {FLOOR_P95_MS:.0f} ms warm: {floor(p95 < FLOOR_P95_MS)} "
        f"({p95:.1f} ms).",
        f"- Index update under {FLOOR_UPDATE_MS:.0f} ms per write (p95): "
        f"{floor(update_p95 < FLOOR_UPDATE_MS)} ({update_p95:.1f} ms).",
        f"- Aim: {AIM_OVERLAP:.0%} top-10 overlap: {floor(overlap >= AIM_OVERLAP)} "
        f"({overlap:.0%}).",
        "",
        "| query | PostgreSQL hits | median ms | Whoosh hits | median ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for ours, theirs in zip(pg_q["rows"], wh_q["rows"], strict=True):
        shown = ours[0].replace("|", "\\|")
        lines.append(
            f"| `{shown}` | {hits(ours)} | {ours[3] * 1000:.1f} | {hits(theirs)} "
            f"| {theirs[3] * 1000:.1f} |"
        )
    lines += ["", "| relevance query | Whoosh top 10 | also in PostgreSQL's |", "|---|---:|---:|"]
    for text, theirs, shared, _ours in rel:
        shown = text.replace("|", "\\|")
        lines.append(f"| `{shown}` | {theirs} | {shared} |")
    return lines
