"""Benchmark: building every member's digest, queries per batch, and the SMTP send rate.

Not a test; run by hand (``make bench`` runs it with the defaults):

    .venv/bin/python benchmarks/digest.py                      # 100k members, SQLite
    .venv/bin/python benchmarks/digest.py --members 10000      # quicker
    .venv/bin/python benchmarks/digest.py --scale 0.1          # same, as a fraction of 100k
    .venv/bin/python benchmarks/digest.py --database postgresql://127.0.0.1:5432/postgres

For each member count (the requested one, and a tenth of it for comparison) it
migrates an empty database, bulk-inserts a synthetic community (users,
memberships, preferences, norms and versions, stale responses, exposure
summaries that put some norms close to the in-force gate, comments with
replies, nudges), then measures:

* build: the weekly digest of every member, content only (``--dry-run``
  path: member selection plus the batch queries), then content plus rendering
  of the text and HTML bodies and the MIME message, without sending;
* queries per batch, counted with a SQLAlchemy ``before_cursor_execute``
  listener: it must not grow with the number of members;
* send rate: the real ``DigestRun`` (ledger rows, SMTP, ``delivered`` events,
  nudges, one commit per state change) against a local aiosmtpd server
  running in its own process.

With a PostgreSQL URL a throw-away database is created on that server for each
member count and dropped afterwards. Figures are printed and written to
benchmarks/results/digest.md (or digest-postgresql.md).

Floors: building all digests of 100k members takes under 10 s (wall clock, the
database's time included: "Pages at forum speed"; 60 s before it); sending reaches
at least 300 messages/s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, event, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks.common import free_port, machine  # noqa: E402
from normhub import create_app  # noqa: E402
from normhub.cli import upgrade_database  # noqa: E402
from normhub.db import make_engine, utcnow  # noqa: E402
from normhub.digest.builder import Member  # noqa: E402
from normhub.digest.sending import BATCH_SIZE, SEND_WORKERS  # noqa: E402

FULL_MEMBERS = 100_000
MEMBERS_PER_COMMUNITY = 2_000
BUILD_FLOOR_S = 10.0
SEND_FLOOR = 300.0
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$benchmark$notarealhash"


# The SMTP server runs in its own process, like a real mail server: in this
# process it would compete with the sender for the interpreter lock.
SMTP_SERVER_SCRIPT = """
import sys, time
from aiosmtpd.controller import Controller

class Counting:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Counting.count += 1
        return "250 2.0.0 Accepted"

controller = Controller(Counting(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
print(Counting.count, flush=True)
"""


class SMTPServerProcess:
    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-c", SMTP_SERVER_SCRIPT, str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the benchmark SMTP server did not start")

    def stop(self) -> int:
        """Stop the server; returns how many messages it accepted."""
        output, _ = self.process.communicate("", timeout=30)
        return int(output.strip() or 0)


# ------------------------------------------------------------------- data


def chunks(rows: list[dict], size: int = 20_000):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def user_rows(members: int, created_at) -> list[dict]:
    return [
        {
            "id": n,
            "email": f"member{n}@bench.example",
            "display_name": f"Member {n}",
            "password_hash": PASSWORD_HASH,
            "bio": "",
            "is_admin": False,
            "created_at": created_at,
            # Confirmed addresses: the digest goes to no one else.
            "email_verified_at": created_at,
        }
        for n in range(1, members + 1)
    ]


def community_rows(community_count: int, created_at) -> list[dict]:
    return [
        {
            "id": c,
            "slug": f"community-{c}",
            "name": f"Community {c}",
            "description": "",
            "visibility": "members" if c % 4 == 0 else "public",
            "join_policy": "open",
            "coverage_threshold_pct": 75,
            "coverage_min_responses": 3,
            "created_at": created_at,
        }
        for c in range(1, community_count + 1)
    ]


def membership_rows(
    members: int, community_count: int, rng: random.Random, joined_at
) -> tuple[list[dict], list[dict], dict[int, list[int]]]:
    """Memberships, the digest preferences some members set, and each community's members.

    One draw of ``rng`` per membership, in membership order: the dataset of a
    seed depends on it.
    """
    memberships, preferences = [], []
    member_lists: dict[int, list[int]] = {c: [] for c in range(1, community_count + 1)}
    for n in range(1, members + 1):
        joined = {(n % community_count) + 1}
        if n % 3 == 0:
            joined.add(((n * 7) % community_count) + 1)
        for c in joined:
            memberships.append(
                {
                    "community_id": c,
                    "user_id": n,
                    "role": "steward" if n <= community_count else "member",
                    "joined_at": joined_at,
                    "left_at": None,
                }
            )
            member_lists[c].append(n)
            roll = rng.random()
            if roll < 0.10:
                preferences.append(
                    {"user_id": n, "community_id": c, "frequency": "daily", "updated_at": joined_at}
                )
            elif roll < 0.15:
                preferences.append(
                    {"user_id": n, "community_id": c, "frequency": "off", "updated_at": joined_at}
                )
    return memberships, preferences, member_lists


class NormRows:
    """The norms of every community and what members did with them, ids handed out in order."""

    def __init__(self, now, recent, old):
        self.now, self.recent, self.old = now, recent, old
        self.norms: list[dict] = []
        self.versions: list[dict] = []
        self.responses: list[dict] = []
        self.summaries: list[dict] = []
        self.comments: list[dict] = []
        self.nudges: list[dict] = []
        self.norm_id = self.version_id = self.response_id = self.comment_id = 0
        # Per community: 3 newly open, 2 newly in force, 5 open for a while (one with a
        # fresh material revision, one close to the gate), 2 in force for a while.
        self.plan = [("open", recent)] * 3 + [("in_force", recent)] * 2
        self.plan += [("open", old)] * 5 + [("in_force", old)] * 2

    def add_community(self, community_id: int, member_ids: list[int]) -> None:
        for index, (status, changed_at) in enumerate(self.plan):
            self.norm_id += 1
            revised = index == 5
            first_version = self.add_versions(member_ids[0], changed_at, revised)
            self.add_norm(community_id, member_ids, index, status, changed_at, revised)
            if revised:
                self.add_stale_responses(member_ids, first_version)
            if index == 6:  # close to the gate: 60% understood, 75% needed
                self.add_close_to_gate(member_ids)
            if index == 0:  # a thread: every 10th member asked, someone answered
                self.add_thread(member_ids, first_version)

    def add_versions(self, editor_id: int, changed_at, revised: bool) -> int:
        """The norm's first version, and a material revision if ``revised``; returns the first."""
        self.version_id += 1
        first_version = self.version_id
        self.versions.append(
            {
                "id": self.version_id,
                "norm_id": self.norm_id,
                "number": 1,
                "title": f"Norm {self.norm_id}",
                "summary": "A synthetic norm for the digest benchmark.",
                "body": "Body.",
                "editor_id": editor_id,
                "created_at": changed_at - timedelta(days=1),
                "change_summary": "First version.",
                "is_material": True,
            }
        )
        if revised:
            self.version_id += 1
            self.versions.append(
                {
                    "id": self.version_id,
                    "norm_id": self.norm_id,
                    "number": 2,
                    "title": f"Norm {self.norm_id}",
                    "summary": "A synthetic norm, revised.",
                    "body": "Body, revised.",
                    "editor_id": editor_id,
                    "created_at": self.now - timedelta(days=1),
                    "change_summary": "Narrowed the scope to weekdays.",
                    "is_material": True,
                }
            )
        return first_version

    def add_norm(
        self,
        community_id: int,
        member_ids: list[int],
        index: int,
        status: str,
        changed_at,
        revised: bool,
    ) -> None:
        self.norms.append(
            {
                "id": self.norm_id,
                "community_id": community_id,
                "slug": f"norm-{self.norm_id}",
                "author_id": member_ids[index % len(member_ids)],
                "status": status,
                "title": f"Norm {self.norm_id}",
                "summary": "A synthetic norm for the digest benchmark.",
                "current_version_id": self.version_id,
                "current_version_number": 2 if revised else 1,
                "last_material_version_number": 2 if revised else 1,
                "created_at": changed_at - timedelta(days=1),
                "status_changed_at": changed_at,
                "last_activity_at": changed_at,
            }
        )

    def add_stale_responses(self, member_ids: list[int], first_version: int) -> None:
        """Every 4th member responded to the version before the material revision."""
        for n in member_ids[::4]:
            self.response_id += 1
            self.responses.append(
                {
                    "id": self.response_id,
                    "user_id": n,
                    "norm_id": self.norm_id,
                    "version_id": first_version,
                    "understood": "yes",
                    "endorsement": "endorse",
                    "reason": "",
                    "created_at": self.old,
                }
            )

    def add_close_to_gate(self, member_ids: list[int]) -> None:
        for n in member_ids[: int(len(member_ids) * 0.6)]:
            self.summaries.append(
                {
                    "user_id": n,
                    "norm_id": self.norm_id,
                    "first_seen_at": self.old,
                    "last_seen_at": self.old,
                    "latest_version": 1,
                    "material_base": 1,
                    "level": 4,
                    "level_version": 1,
                    "level_at": self.old,
                    "highest_level": 4,
                    "highest_level_version": 1,
                    "highest_level_at": self.old,
                }
            )
        for n in member_ids[::20]:
            self.nudges.append(
                {
                    "norm_id": self.norm_id,
                    "member_id": n,
                    "created_by_id": member_ids[0],
                    "created_at": self.recent,
                    "delivered_at": None,
                }
            )

    def add_thread(self, member_ids: list[int], first_version: int) -> None:
        for position, n in enumerate(member_ids[::10]):
            self.comment_id += 1
            parent = self.comment_id
            self.comments.append(
                {
                    "id": parent,
                    "norm_id": self.norm_id,
                    "author_id": n,
                    "parent_id": None,
                    "version_id": first_version,
                    "assumption_key": None,
                    "body": "A question about this norm.",
                    "created_at": self.recent,
                }
            )
            self.comment_id += 1
            self.comments.append(
                {
                    "id": self.comment_id,
                    "norm_id": self.norm_id,
                    "author_id": member_ids[(position * 10 + 1) % len(member_ids)],
                    "parent_id": parent,
                    "version_id": first_version,
                    "assumption_key": None,
                    "body": "An answer to that question, with some detail.",
                    "created_at": self.recent + timedelta(hours=1),
                }
            )


def insert_counted(conn, tables_and_rows, counts: Counter) -> None:
    for table, rows in tables_and_rows:
        for chunk in chunks(rows):
            conn.execute(insert(table), chunk)
        counts[table.name] = len(rows)


def insert_norms(conn, norm_table, version_table, norms: list[dict], versions: list[dict]) -> None:
    # norms and versions point at each other: versions first without the
    # norm's pointer, then norms, then versions.
    for chunk in chunks([{**n, "current_version_id": None} for n in norms]):
        conn.execute(insert(norm_table), chunk)
    for chunk in chunks(versions):
        conn.execute(insert(version_table), chunk)
    conn.execute(
        norm_table.update()
        .where(norm_table.c.id == bindparam("norm_id"))
        .values(current_version_id=bindparam("version_id")),
        [{"norm_id": n["id"], "version_id": n["current_version_id"]} for n in norms],
    )


def finish_bulk_load(conn, dialect_name: str) -> None:
    """Move PostgreSQL's id sequences past the explicit ids, count what the ledger would
    have kept beside the rows (responded bases, coverage tallies), then refresh planner
    statistics."""
    from normhub.exposure.tallies import fill_responded_bases, recount_tallies

    fill_responded_bases(conn)
    recount_tallies(conn)
    if dialect_name == "postgresql":
        for table in (
            "users",
            "communities",
            "norms",
            "norm_versions",
            "responses",
            "comments",
        ):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT MAX(id) FROM {table}))"
                )
            )
    conn.execute(text("ANALYZE"))


def populate(engine, members: int, seed: int = 7) -> dict:
    """Bulk-insert a synthetic dataset; returns what was made, for the report."""
    import normhub.models  # noqa: F401
    from normhub.accounts.models import User
    from normhub.communities.models import Community, Membership
    from normhub.digest.models import DigestPreference
    from normhub.discussion.models import Comment
    from normhub.exposure.models import ExposureSummary, Nudge
    from normhub.norms.models import Norm, NormVersion
    from normhub.responses.models import Response

    rng = random.Random(seed)
    now = utcnow()
    recent, old = now - timedelta(days=2), now - timedelta(days=40)
    community_count = max(5, members // MEMBERS_PER_COMMUNITY)
    counts: Counter = Counter()

    users = user_rows(members, old)
    communities = community_rows(community_count, old)
    memberships, preferences, member_lists = membership_rows(members, community_count, rng, old)
    made = NormRows(now, recent, old)
    for c, member_ids in member_lists.items():
        made.add_community(c, member_ids)

    with engine.begin() as conn:
        insert_counted(
            conn,
            (
                (User.__table__, users),
                (Community.__table__, communities),
                (Membership.__table__, memberships),
                (DigestPreference.__table__, preferences),
            ),
            counts,
        )
        insert_norms(conn, Norm.__table__, NormVersion.__table__, made.norms, made.versions)
        insert_counted(
            conn,
            (
                (Response.__table__, made.responses),
                (ExposureSummary.__table__, made.summaries),
                (Comment.__table__, made.comments),
                (Nudge.__table__, made.nudges),
            ),
            counts,
        )
        counts["norms"], counts["norm_versions"] = len(made.norms), len(made.versions)
        finish_bulk_load(conn, engine.dialect.name)
    return dict(counts)


# -------------------------------------------------------------- database


class Database:
    """A fresh database: a SQLite file, or a throw-away database on a PostgreSQL server."""

    def __init__(self, server_url: str | None):
        self.server_url = server_url
        self.admin = None
        if server_url:
            server = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
            self.name = f"normhub_bench_{uuid.uuid4().hex[:10]}"
            self.admin = make_engine(
                server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
            )
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = server.set(database=self.name).render_as_string(hide_password=False)
        else:
            self.directory = Path(tempfile.mkdtemp(prefix="normhub-digest-bench-"))
            self.url = f"sqlite:///{self.directory / 'bench.sqlite3'}"

    def drop(self) -> None:
        if self.admin is not None:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.admin.dispose()


# ---------------------------------------------------------------- measure


def measure(
    members: int,
    database_url: str | None,
    send_count: int,
    batch_size: int,
    render_limit: int | None = None,
    workers: int = SEND_WORKERS,
) -> dict:
    from normhub.digest.emails import digest_email
    from normhub.digest.sending import DigestRun
    from normhub.mail.transports import SMTPTransport

    database = Database(database_url)
    try:
        upgrade_database(database.url)
        engine = make_engine(database.url)
        started = time.perf_counter()
        counts = populate(engine, members)
        populate_s = time.perf_counter() - started
        engine.dispose()

        instance = Path(tempfile.mkdtemp(prefix="normhub-digest-bench-instance-"))
        app = create_app(
            {"DATABASE_URL": database.url, "BASE_URL": "https://normhub.example"},
            instance_path=str(instance),
        )
        app_engine = app.extensions["normhub.engine"]
        statements: list[int] = [0]

        def count_statement(*_args):
            statements[0] += 1

        event.listen(app_engine, "before_cursor_execute", count_statement)

        with app.app_context():
            session = app.extensions["normhub.sessionmaker"]()

            # 1. content only, every member: the dry-run path
            per_batch: list[int] = []

            class CountingRun(DigestRun):
                def _batch(self, rows, sent_budget):
                    before = statements[0]
                    result = super()._batch(rows, sent_budget)
                    # +2: the two member-selection queries (next ids, their
                    # ledger rows) that ran just before, for ``rows``
                    per_batch.append(statements[0] - before + 2)
                    return result

            run = CountingRun(
                app, session, "weekly", _NullTransport(), dry_run=True, batch_size=batch_size
            )
            started, cpu = time.perf_counter(), time.process_time()
            statements[0] = 0
            report = run.run()
            content_s = time.perf_counter() - started
            content_cpu = time.process_time() - cpu
            total_statements = statements[0]
            session.rollback()

            # 2. content plus rendering (text, HTML, MIME), still not sending
            rendered = [0]

            class RenderingRun(DigestRun):
                def _batch(self, rows, sent_budget):
                    digests = self.builder.build(
                        [Member(r.id, r.email, r.display_name) for r in rows]
                    )
                    done = 0
                    for digest in digests.values():
                        if digest.has_news:
                            self.builder.finish(digest)
                            self.composer.compose(digest_email(digest))
                            done += 1
                    rendered[0] += done
                    return None if sent_budget is None else sent_budget - done

            render_run = RenderingRun(
                app,
                session,
                "weekly",
                _NullTransport(),
                dry_run=True,
                batch_size=batch_size,
                limit=render_limit,
            )
            started, cpu = time.perf_counter(), time.process_time()
            render_run.run()
            render_s = time.perf_counter() - started
            render_cpu = time.process_time() - cpu
            session.rollback()

            # 3. send rate against a local SMTP server, with the full ledger
            server = SMTPServerProcess()
            received = 0
            try:
                transport = SMTPTransport("127.0.0.1", server.port, "none", timeout=10)
                transport.open()
                send_run = DigestRun(
                    app,
                    session,
                    "weekly",
                    transport,
                    limit=send_count,
                    batch_size=batch_size,
                    workers=workers,
                )
                started, cpu = time.perf_counter(), time.process_time()
                send_report = send_run.run()
                send_s = time.perf_counter() - started
                send_cpu = time.process_time() - cpu
                transport.close()
            finally:
                received = server.stop()
            session.close()
        app_engine.dispose()
        batches = len(per_batch)
        return {
            "members": members,
            "backend": "postgresql" if database_url else "sqlite",
            "populate_s": populate_s,
            "rows": counts,
            "would_send": report.would_send,
            "skipped": report.skipped,
            "content_s": content_s,
            "render_s": render_s,
            "rendered": rendered[0],
            "batches": batches,
            "batch_size": batch_size,
            "statements_total": total_statements,
            "per_batch_min": min(per_batch) if per_batch else 0,
            "per_batch_max": max(per_batch) if per_batch else 0,
            "per_batch_median": statistics.median(per_batch) if per_batch else 0,
            "sent": send_report.sent,
            "smtp_received": received,
            "send_s": send_s,
            "send_rate": send_report.sent / send_s if send_s else 0.0,
            "content_cpu": content_cpu,
            "render_cpu": render_cpu,
            "send_cpu": send_cpu,
            "send_rate_cpu": send_report.sent / send_cpu if send_cpu else 0.0,
            "workers": workers,
            "load": os.getloadavg()[0],
        }
    finally:
        database.drop()


class _NullTransport:
    description = "nowhere (benchmark)"

    def send(self, *_args):  # pragma: no cover - dry runs never send
        raise AssertionError("a dry run must not send")


def render_report(results: list[dict]) -> str:
    lines = [
        f"# Digest benchmark ({results[0]['backend']})",
        "",
        f"Machine: {machine()}. Run: `{' '.join(sys.argv)}`.",
        "",
        "Wall-clock figures depend on what else runs on the machine; the CPU seconds of the "
        "benchmark process (in brackets) do not, and the load average is shown per run.",
        "",
        "| members | communities | norms | batches (size) | queries per batch (min / median / max) "
        "| build, content only | build + render text/HTML/MIME | digests | send rate "
        "| load avg |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['members']:,} | {r['rows']['communities']} | {r['rows']['norms']} "
            f"| {r['batches']} ({r['batch_size']}) "
            f"| {r['per_batch_min']} / {r['per_batch_median']:g} / {r['per_batch_max']} "
            f"| {r['content_s']:.1f} s ({r['content_cpu']:.1f} s CPU) "
            f"| {r['render_s']:.1f} s for {r['rendered']:,} ({r['render_cpu']:.1f} s CPU) "
            f"| {r['would_send']:,} to send, {r['skipped']:,} skipped "
            f"| {r['send_rate']:.0f} msg/s ({r['sent']} sent in {r['send_s']:.1f} s by "
            f"{r['workers']} senders; {r['send_rate_cpu']:.0f} per CPU-second) "
            f"| {r['load']:.1f} |"
        )
    biggest = max(results, key=lambda r: r["members"])
    build_ok = biggest["content_s"] < BUILD_FLOOR_S
    send_ok = all(r["send_rate"] >= SEND_FLOOR for r in results)
    flat = len({r["per_batch_median"] for r in results}) == 1
    rates = ", ".join(f"{r['send_rate']:.0f}" for r in results)
    cpu_rates = ", ".join(f"{r['send_rate_cpu']:.0f}" for r in results)
    medians = " vs ".join(f"{r['per_batch_median']:g}" for r in results)
    lines += [
        "",
        f"- Floor: build all digests of {biggest['members']:,} members in < {BUILD_FLOOR_S:.0f} s: "
        f"**{biggest['content_s']:.1f} s — {'met' if build_ok else 'NOT met'}** "
        f"({biggest['content_cpu']:.1f} CPU-seconds). Building and rendering "
        f"{biggest['rendered']:,} messages (text, HTML, MIME bytes, unsubscribe tokens; in a "
        f"real run this happens while sending): {biggest['render_s']:.1f} s "
        f"({biggest['render_cpu']:.1f} CPU-seconds, "
        f"{1000 * biggest['render_cpu'] / max(biggest['rendered'], 1):.2f} ms CPU per message).",
        f"- Floor: send rate >= {SEND_FLOOR:.0f} messages/s: "
        f"**{rates} msg/s — "
        f"{'met' if send_ok else 'NOT met'}** (per CPU-second of the sender: {cpu_rates}).",
        f"- Queries per batch do not grow with members: median "
        f"{medians} "
        f"({'constant' if flat else 'NOT constant'}). Member selection is two queries per batch; "
        "the digest content is a fixed set of IN (...) queries, one of them the communities a "
        "`--community` run of the period already covered (left out of a full run); coverage of "
        "open norms is computed once per run.",
        "- The first batch also runs the once-per-run queries (communities, and the coverage of "
        "open norms for the close-to-the-gate section), hence the max; a last, small batch may "
        "skip a query that has nothing to look up, hence the min.",
        "- Send rate: the aiosmtpd server runs in its own process (no shared GIL). It includes "
        "building each batch and the claims (one commit per 50 messages) in the main thread, "
        "composing (in a helper thread, a chunk ahead), and the sending threads (`--workers`, "
        "each with its own SMTP and database connection, one message at a time): per message "
        'the SMTP transaction, then its outcome in one transaction: "sent" (UPDATE), the '
        "`delivered` events, the exposure summaries (INSERT … ON CONFLICT DO UPDATE), nudges "
        "if any. On PostgreSQL that is ONE statement (the rest as data-modifying CTEs, rows "
        "passed as arrays) in autocommit, with `synchronous_commit` off on the senders' "
        "connections; on SQLite a transaction of executemany statements (see delivery.py).",
        f"- Load average during each run is in the table; the sender's figure per CPU-second "
        f"is what the send loop costs regardless of load ({os.cpu_count()} CPUs here).",
        "",
        "Dataset per run: "
        + "; ".join(
            f"{r['members']:,} members: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(r["rows"].items()))
            + f" (bulk insert {r['populate_s']:.1f} s)"
            for r in results
        ),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=None)
    parser.add_argument("--scale", type=float, default=None, help="fraction of 100k members")
    parser.add_argument("--database", default=None, help="PostgreSQL server URL (default SQLite)")
    parser.add_argument("--send", type=int, default=3000, help="messages for the send rate")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument(
        "--workers", type=int, default=SEND_WORKERS, help="sending threads (the CLI's default)"
    )
    parser.add_argument(
        "--render", type=int, default=None, help="render only the first N messages (default all)"
    )
    parser.add_argument("--output", default=None)
    parser.add_argument(
        "--compare", type=int, default=None, help="second member count (default: a tenth)"
    )
    args = parser.parse_args()
    members = args.members or int(FULL_MEMBERS * (args.scale if args.scale else 1.0))
    compare = args.compare or max(1_000, members // 10)
    results = []
    for count in sorted({compare, members}):
        print(f"-- {count:,} members", flush=True)
        result = measure(
            count, args.database, args.send, args.batch_size, args.render, args.workers
        )
        print(
            f"   build content {result['content_s']:.1f} s, with rendering "
            f"{result['render_s']:.1f} s ({result['rendered']:,} messages); "
            f"queries per batch min/median/max {result['per_batch_min']}/"
            f"{result['per_batch_median']:g}/{result['per_batch_max']} over "
            f"{result['batches']} batches; send {result['send_rate']:.0f} msg/s "
            f"({result['sent']} in {result['send_s']:.1f} s, server got "
            f"{result['smtp_received']})",
            flush=True,
        )
        results.append(result)
    report = render_report(results)
    print(report)
    name = "digest.md" if not args.database else "digest-postgresql.md"
    output = Path(args.output) if args.output else ROOT / "benchmarks" / "results" / name
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report)
    print(f"Written to {output}")


if __name__ == "__main__":
    main()
