"""Benchmark: NormHub's pages at forum scale, against Flask sending the same bytes.

Not a test; run by hand (``make bench`` runs it with the defaults):

    .venv/bin/python benchmarks/pages.py --scale 0.02   # quick, SQLite (under five minutes)
    .venv/bin/python benchmarks/pages.py                # 100k members, 2k norms, 200k comments
    .venv/bin/python benchmarks/pages.py --database postgresql://127.0.0.1:5432/postgres

It builds the dataset of benchmarks/pages_dataset.py with bulk inserts and the
search index, serves the app with gunicorn, logs in once through the real login
form (CSRF token and all) and records every page once: its status (each must be
a 200), its bytes and, in-process, the SQL statements one request runs. Then,
page by page, wrk loads the app and benchmarks/same_bytes_app.py (Flask sending
the recorded bytes for the same URL and cookie, under the same gunicorn settings)
in alternating rounds. Server-side p50/p99 come from gunicorn's access log.

With a PostgreSQL URL, a throw-away database is created on that server and
dropped at the end (unless --keep). Figures are printed and written to
benchmarks/results/pages-<backend>.md, with a line per floor.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import math
import multiprocessing
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bulk import create_postgres_database, drop_postgres_database, log  # noqa: E402
from benchmarks.common import ROOT, Server, combine, percentile, run_wrk  # noqa: E402
from benchmarks.pages_dataset import (  # noqa: E402
    BIG_COMMUNITY,
    HEAVY_NORM,
    TYPICAL_NORM,
    build_dataset,
    build_search_index,
    cook_markdown,
)
from benchmarks.pages_recording import (  # noqa: E402
    InProcess,
    Recorded,
    log_in,
    measure_in_process,
    record_pages,
    write_recording,
)
from benchmarks.pages_report import (  # noqa: E402
    MEMBER_RATIO_FLOOR,
    VISITOR_RATIO_FLOOR,
    write_report,
)

PAGE_SIZE = 20  # the app's default NORMHUB_PAGE_SIZE
STRAGGLER_QUIET_SECONDS = 10
DEEP_PAGE = 50


@dataclass(frozen=True)
class PageSpec:
    name: str
    path: str
    member: bool  # requested with the logged-in member's cookie
    ratio_floor: float | None = None  # the least share of the same-bytes app's req/s


def page_specs(plan: dict) -> list[PageSpec]:
    community = f"/c/bench-{BIG_COMMUNITY}"
    heavy = f"{community}/norms/norm-{HEAVY_NORM}"
    typical = f"{community}/norms/norm-{TYPICAL_NORM}"
    # Page 50 at full scale; a smaller dataset's last page stands in for it.
    deep = min(DEEP_PAGE, math.ceil(plan["big_community_norms"] / PAGE_SIZE))
    member_handle = f"m{plan['login']['user_id']:011d}"  # dataset.py's handles
    deep_page = PageSpec(
        f"community list, page {deep}", f"{community}?page={deep}", False, VISITOR_RATIO_FLOOR
    )
    return [
        PageSpec("home (visitor)", "/", False),
        PageSpec("community list, page 1", community, False, VISITOR_RATIO_FLOOR),
        *([deep_page] if deep > 1 else []),
        PageSpec(
            "community list, tag filter", f"{community}?tag=safety", False, VISITOR_RATIO_FLOOR
        ),
        PageSpec("norm page, long thread (visitor)", heavy, False, VISITOR_RATIO_FLOOR),
        PageSpec("norm page, typical (visitor)", typical, False, VISITOR_RATIO_FLOOR),
        PageSpec("norm page, long thread (member)", heavy, True, MEMBER_RATIO_FLOOR),
        PageSpec("norm page, typical (member)", typical, True, MEMBER_RATIO_FLOOR),
        PageSpec("coverage (member)", f"{typical}/coverage", True),
        PageSpec("reading queue (member)", "/queue", True),
        PageSpec("start here (visitor)", f"{community}/start", False),
        PageSpec("start here (member)", f"{community}/start", True),
        PageSpec("community record (visitor)", f"{community}/record", False),
        PageSpec("community record (member)", f"{community}/record", True),
        PageSpec("member page and record (member)", f"/members/{member_handle}", True),
        PageSpec("home (member)", "/", True, MEMBER_RATIO_FLOOR),
        PageSpec("digest preview (member)", "/settings/digest/preview", True),
        PageSpec("search (member)", "/search?q=quiet+hours", True),
    ]


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_page_script(path: Path, page: PageSpec, cookie: str) -> None:
    """A wrk script asking for one page (with the member's cookie when it is a member's)
    that prints how many requests it sent, answered or not."""
    headers = f"{{Cookie = {lua_string(cookie)}}}" if page.member else "{}"
    path.write_text(
        f"""local path = {lua_string(page.path)}
local headers = {headers}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) sent = 0 end
function request()
  sent = sent + 1
  return wrk.format("GET", path, headers)
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("sent") end
  io.write(string.format("Requests sent: %d\\n", total))
end
"""
    )


def load_until_answered(server: Server, script: Path, seconds: int, connections: int):
    """One wrk run, then a wait until the server has logged every request wrk sent.

    wrk stops with up to one request in flight per connection; the server still
    answers them. Waiting keeps a slow page's stragglers out of the next round
    and out of the next page's log lines. Now and then a request wrk counted
    never reaches the log, so the wait also ends once the log has been still
    for STRAGGLER_QUIET_SECONDS.
    """
    logged_before = server.log_mark()
    result = run_wrk(server.base_url, script, seconds, connections)
    # wrk asks each of its threads (one here) for a request once before it starts.
    expected = logged_before + int(re.search(r"Requests sent: (\d+)", result.raw).group(1)) - 1
    logged, still_since = server.log_mark(), time.monotonic()
    while logged < expected and time.monotonic() - still_since < STRAGGLER_QUIET_SECONDS:
        time.sleep(0.2)
        now_logged = server.log_mark()
        if now_logged > logged:
            logged, still_since = now_logged, time.monotonic()
    return result


def measure_page(servers: dict[str, Server], script: Path, args) -> dict[str, dict]:
    """Each app in turn, round after round, so both see the same machine conditions."""
    for server in servers.values():
        load_until_answered(server, script, 1, args.connections)  # warm-up
    marks = {name: server.log_mark() for name, server in servers.items()}
    rounds = {name: [] for name in servers}
    per_round = max(1, round(args.duration / args.rounds))
    for _ in range(args.rounds):
        for name, server in servers.items():
            rounds[name].append(load_until_answered(server, script, per_round, args.connections))
    figures = {}
    for name, server in servers.items():
        times, statuses = server.server_latencies(marks[name])
        result = combine(rounds[name])
        figures[name] = {
            "rps": result.requests_per_second,
            "requests": result.requests,
            "rounds": [r.requests_per_second for r in rounds[name]],
            "client_p99": result.p99_ms,
            "server_p50": percentile(times, 0.50),
            "server_p99": percentile(times, 0.99),
            "statuses": statuses,
            # A page slower than wrk's timeout is slow, not wrong: counted, not fatal.
            "timeouts": sum(timeouts(r.raw) for r in rounds[name]),
            "socket_errors": result.errors - sum(timeouts(r.raw) for r in rounds[name]),
        }
    return figures


def timeouts(wrk_output: str) -> int:
    found = re.search(r"Socket errors: .*timeout (\d+)", wrk_output)
    return int(found.group(1)) if found else 0


def only_200s(page: PageSpec, figures: dict[str, dict]) -> None:
    """A benchmark of redirects or errors measures nothing: stop at the first.

    (A page so slow that no request ended within the rounds is a result: it is
    reported without latencies, and misses its floors.)"""
    for app_name, figure in figures.items():
        others = {status: n for status, n in figure["statuses"].items() if status != "200"}
        if others or figure["socket_errors"]:
            raise RuntimeError(
                f"{page.name} on {app_name}: statuses {figure['statuses']}, "
                f"socket errors {figure['socket_errors']}"
            )


def build(args, workdir: Path, secret_key: str) -> dict:
    if args.database == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        url = create_postgres_database(args.database)
    from normhub.cli import upgrade_database

    try:
        log(f"Migrating {url}")
        upgrade_database(url)
        log(f"Building the dataset at scale {args.scale}")
        plan = build_dataset(url, args.scale)
        log("Cooking Markdown")
        plan["cooked_rows"], plan["cook_seconds"] = in_child_process(
            cook_markdown, url, workdir / "instance", secret_key
        )
        log("Indexing for search")
        plan["search_documents"], plan["search_index_seconds"] = in_child_process(
            build_search_index, url, workdir / "instance", secret_key
        )
    except BaseException:
        if url.startswith("postgresql") and not args.keep:
            drop_postgres_database(url)
        raise
    plan.update(url=url, secret_key=secret_key, scale=args.scale)
    log(f"Built in {plan['build_seconds']} s, indexed in {plan['search_index_seconds']} s")
    return plan


def in_child_process(function, *args):
    """``function(*args)`` in a forked process, which leaves this one no app, engine or
    search index state behind; should it crash, this one still stops the servers it
    started (they run in sessions of their own and would outlive it), and says where."""
    with ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("fork"),
        initializer=faulthandler.enable,
    ) as pool:
        return pool.submit(function, *args).result()


def add_recorded_figures(figures: dict, recorded: Recorded, in_process: InProcess) -> None:
    figures.update(
        bytes=len(recorded.body),
        comments_shown=recorded.comments_shown,
        queries=in_process.queries,
        cpu_ms=in_process.cpu_ms,
    )


def log_page(page: PageSpec, figures: dict) -> None:
    app, same = figures["app"], figures["same bytes"]
    log(
        f"{page.name}: {app['rps']:.0f} req/s, same bytes {same['rps']:.0f} "
        f"({app['rps'] / same['rps']:.0%}); server p99 {app['server_p99']:.1f} ms; "
        f"{figures['queries']} queries, {figures['cpu_ms']:.1f} ms CPU; {figures['bytes']:,} bytes"
    )


def run(args, plan: dict, workdir: Path) -> tuple[list[PageSpec], dict]:
    """Serve both apps, record every page, count its queries, then load page by page."""
    instance = workdir / "instance"
    env = {
        "NORMHUB_DATABASE_URL": plan["url"],
        "NORMHUB_SECRET_KEY": plan["secret_key"],
        "NORMHUB_INSTANCE_PATH": str(instance),
        "NORMHUB_ENV": "production",
        # One client asks for thousands of pages a second: the benchmark measures
        # the pages, not the 429s.
        "NORMHUB_RATE_LIMITS": "0",
    }
    settings = dict(workers=args.workers, threads=args.threads)
    pages = [p for p in page_specs(plan) if not args.only or args.only in p.name]
    app = Server("wsgi:app", env=env, chdir=ROOT, **settings)
    servers = {"app": app}
    try:
        app.start(ready_path="/communities")
        cookie = log_in(app.base_url, plan["login"])
        recorded = record_pages(app.base_url, pages, cookie)
        recording = write_recording(workdir / "recording", recorded)
        servers["same bytes"] = Server(
            "same_bytes_app:create_app()",
            env={"SAME_BYTES_RECORDING": str(recording)},
            chdir=ROOT / "benchmarks",
            **settings,
        )
        servers["same bytes"].start(ready_path="/")
        log("Counting SQL statements and CPU time per page (in-process)")
        in_process = in_child_process(
            measure_in_process, plan["url"], plan["secret_key"], instance, pages, cookie
        )
        figures = {}
        for page in pages:
            script = workdir / "page.lua"
            write_page_script(script, page, cookie)
            figures[page.name] = measure_page(servers, script, args)
            only_200s(page, figures[page.name])
            add_recorded_figures(figures[page.name], recorded[page.name], in_process[page.name])
            log_page(page, figures[page.name])
    finally:
        for server in servers.values():
            server.stop()
    return pages, figures


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1.0 = 100k members, 2k norms, 200k comments"
    )
    parser.add_argument(
        "--database", default="sqlite", help="'sqlite' (a temp file) or a postgresql:// server URL"
    )
    parser.add_argument(
        "--duration",
        type=int,
        help="seconds of measured load per page and app (default: 4 below full scale, else 20)",
    )
    parser.add_argument(
        "--rounds", type=int, help="alternate the apps this many times (default: 2, full scale 4)"
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--workers", type=int, help="gunicorn workers for both apps (default: gunicorn.conf.py's)"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--only", help="measure only the pages whose name holds this text (and report only them)"
    )
    parser.add_argument("--workdir", help="keep the database and plan here (default: a temp dir)")
    parser.add_argument(
        "--reuse", action="store_true", help="skip the build: use --workdir's plan.json"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "results"))
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    # Stopped from outside: still stop the servers and drop the database (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed (apt-get install wrk): it sends each page's cookie")
    started = time.monotonic()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="normhub-pages-"))
    workdir.mkdir(parents=True, exist_ok=True)
    plan_file = workdir / "plan.json"
    if args.reuse:
        plan = json.loads(plan_file.read_text())
        args.scale = plan["scale"]
        log(f"Reusing {plan['url']}")
    else:
        plan = build(args, workdir, secrets.token_hex(32))
        plan_file.write_text(json.dumps(plan))
    # Small runs are for a quick look; at full scale slow pages need time for a p99.
    full = args.scale >= 1.0
    args.duration = args.duration or (20 if full else 4)
    args.rounds = args.rounds or (4 if full else 2)
    backend = "postgresql" if plan["url"].startswith("postgresql") else "sqlite"
    try:
        pages, figures = run(args, plan, workdir)
    finally:
        if not args.keep and not args.reuse:
            if backend == "postgresql":
                drop_postgres_database(plan["url"])
            if args.workdir is None:
                shutil.rmtree(workdir, ignore_errors=True)
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    elapsed = time.monotonic() - started
    report = write_report(
        results / f"pages-{backend}.md", args, backend, plan, pages, figures, elapsed
    )
    print()
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
