"""The page benchmark's results file: the dataset, a row per page, a line per floor."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from benchmarks.common import configured_workers, machine_description

# Floors from the issue, as a share of the same-bytes app's req/s in the same run.
VISITOR_RATIO_FLOOR = 0.50
MEMBER_RATIO_FLOOR = 0.20
SERVER_P99_FLOOR_MS = 50.0
FULL_SCALE_COMMAND = ".venv/bin/python benchmarks/pages.py{database}"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def ratio(figures: dict) -> float:
    same = figures["same bytes"]["rps"]
    return figures["app"]["rps"] / same if same else 0.0


def page_rows(pages, figures: dict) -> str:
    rows = []
    for page in pages:
        f = figures[page.name]
        app, same = f["app"], f["same bytes"]
        rows.append(
            f"| {page.name} | `{page.path}` | {f['bytes']:,} | {f['queries']} | {f['cpu_ms']:.1f} "
            f"| {app['rps']:.0f} | {same['rps']:.0f} | {ratio(f):.0%} "
            f"| {app['server_p50']:.1f} | {app['server_p99']:.1f} | {same['server_p99']:.1f} "
            f"| {app['requests']:,} | {app['timeouts']} |"
        )
    return "\n".join(rows)


def floor_lines(pages, figures: dict, scale: float) -> str:
    lines = []
    for page in pages:
        floor = page.ratio_floor
        if floor is not None:
            value = ratio(figures[page.name])
            lines.append(
                f"- {page.name}: **{value:.0%}** of the same-bytes app "
                f"(floor {floor:.0%}): **{verdict(value >= floor)}**"
            )
    at_scale = "" if scale == 1.0 else f" (the floor is for full scale; this run is at {scale})"
    for page in pages:
        p99 = figures[page.name]["app"]["server_p99"]
        lines.append(
            f"- {page.name}: server p99 **{p99:.1f} ms** (floor < {SERVER_P99_FLOOR_MS:.0f} ms)"
            f"{at_scale}: **{verdict(p99 < SERVER_P99_FLOOR_MS)}**"
        )
    return "\n".join(lines)


def write_report(
    path: Path, args, backend: str, plan: dict, pages, figures: dict, elapsed: float
) -> str:
    scale = plan["scale"]
    database = "" if backend == "sqlite" else " --database postgresql://127.0.0.1:5432/postgres"
    label = (
        ""
        if scale == 1.0
        else f"\n**Scale {scale}, not full scale**: a small dataset on a shared machine; "
        "the floors are judged by the full-scale run, which is done by hand:\n"
        f"`{FULL_SCALE_COMMAND.format(database=database)}`.\n"
    )
    rounds = "\n".join(
        f"- {page.name}: app {', '.join(f'{x:.0f}' for x in figures[page.name]['app']['rounds'])}"
        f"; same bytes "
        f"{', '.join(f'{x:.0f}' for x in figures[page.name]['same bytes']['rounds'])}"
        for page in pages
    )
    long_thread = next((p for p in pages if p.name.startswith("norm page, long thread")), None)
    thread_note = (
        f"The long thread's page shows {figures[long_thread.name]['comments_shown']} of its "
        "comments (counted by their anchors in the page)."
        if long_thread
        else ""
    )
    text = f"""# Page benchmark ({backend}, scale {scale})
{label}
Run: {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())} on {machine_description()};
{elapsed / 60:.1f} minutes in all.

Command: `python benchmarks/pages.py {shlex.join(sys.argv[1:])}`

## Dataset

| members | communities | norms (in bench-2) | assumptions | tags | comments | ledger events \
| responses | assumption answers | search documents | build | index |
|---|---|---|---|---|---|---|---|---|---|---|---|
| {plan["members"]:,} | {plan["communities"]} \
| {plan["norms"]:,} ({plan["big_community_norms"]:,}) \
| {plan["assumptions"]:,} | {plan["tags"]:,} | {plan["comments"]:,} | {plan["events"]:,} \
| {plan["responses"]:,} | {plan["assumption_responses"]:,} | {plan["search_documents"]:,} \
| {plan["build_seconds"]} s | {plan["search_index_seconds"]} s |

The long thread (`norm-1`) holds 300 comments and 12 assumptions; the typical norm
(`norm-7`) about 100 comments. The member is a regular member of the public community
`bench-2` and of the members-only `bench-1`, logged in once through `/login`.

## Load

gunicorn with the repository's `gunicorn.conf.py` \
({args.workers or configured_workers()} workers, `--threads {args.threads}`) for both apps; \
wrk with {args.connections} connections, {args.duration} s per page and app in {args.rounds} \
alternating rounds after a 1 s warm-up of each; every round (and page) starts once the
server has answered every request wrk sent in the one before.
**Same bytes** is `benchmarks/same_bytes_app.py`: Flask answering the same URL (and
cookie or none) with the body and headers the app returned when recorded. Server
times are gunicorn's own (`%(D)s` in the access log); every response was a 200 (the run
stops otherwise); timeouts are requests wrk gave up on after 10 s.
Queries and CPU ms: SQL statements of one request and its CPU time (fastest of
three; the app's process only, not PostgreSQL's), in-process through Flask's test
client after one request to warm up: a figure that depends less on the machine's load
than req/s.
{thread_note}

| page | address | bytes | queries | CPU ms | app req/s | same-bytes req/s | ratio \
| server p50 ms | server p99 ms | same-bytes p99 ms | requests | timeouts |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
{page_rows(pages, figures)}

Req/s per round:

{rounds}

## Against the floors

{floor_lines(pages, figures, scale)}

The other floors of "Pages at forum speed" are measured by the existing benchmarks: the
exposure check API by `benchmarks/exposure.py` (`results/exposure-*.md`), search by
`benchmarks/search.py` (`results/search.md`), the digest build by `benchmarks/digest.py`
(`results/digest*.md`).
"""
    path.write_text(text)
    return text
