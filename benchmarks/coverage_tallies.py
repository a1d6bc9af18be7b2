"""Benchmark: what coverage tallies save on reads and cost on writes.

Not a test; run by hand:

    .venv/bin/python benchmarks/coverage_tallies.py --scale 0.02
    .venv/bin/python benchmarks/coverage_tallies.py --database postgresql://127.0.0.1:5432/postgres

On the page benchmark's dataset (benchmarks/pages_dataset.py) it times, in the
same run:

- reading the levels of the big community's open norms from the tallies,
  against counting them from the summary rows (what coverage did before);
- recording ledger events one transaction each (a member reading a norm), and
  a digest's bulk delivery to every member, with the tallies' triggers on and
  with them off (PostgreSQL: ``DISABLE TRIGGER``; SQLite has no such switch,
  so the triggers are dropped in a copy of the database).

Each write is rolled back, so every pass starts from the same rows. Results go
to benchmarks/results/coverage-tallies-<backend>.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bulk import create_postgres_database, drop_postgres_database  # noqa: E402
from benchmarks.common import machine_description  # noqa: E402
from benchmarks.pages_dataset import BIG_COMMUNITY, build_dataset  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PASSES = 7
EVENTS_PER_PASS = 200


def timed_ms(function, passes: int = PASSES) -> float:
    """Median wall time of ``function()`` in ms, after one pass to warm caches."""
    function()
    times = []
    for _ in range(passes):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def open_norms(session) -> list[int]:
    from sqlalchemy import select

    from normhub.norms.models import Norm

    return list(
        session.scalars(
            select(Norm.id).where(Norm.community_id == BIG_COMMUNITY, Norm.status == "open")
        )
    )


def responders(session, ids: list[int]) -> dict[int, int]:
    """Members who responded to the current text, per norm, counted from the responses
    (as coverage did before the tallies kept it)."""
    from sqlalchemy import and_, func, select

    from normhub.communities.models import Membership
    from normhub.norms.models import Norm, NormVersion
    from normhub.responses.models import Response

    return dict(
        session.execute(
            select(Response.norm_id, func.count(func.distinct(Response.user_id)))
            .join(NormVersion, NormVersion.id == Response.version_id)
            .join(Norm, Norm.id == Response.norm_id)
            .join(
                Membership,
                and_(
                    Membership.community_id == Norm.community_id,
                    Membership.user_id == Response.user_id,
                    Membership.left_at.is_(None),
                ),
            )
            .where(
                Response.norm_id.in_(ids), NormVersion.number >= Norm.last_material_version_number
            )
            .group_by(Response.norm_id)
        ).all()
    )


def reads(session) -> dict[str, float]:
    from normhub.exposure.coverage import coverage_for_norms
    from normhub.exposure.tallies import counted_levels, tallied_levels
    from normhub.norms.models import Norm

    ids = open_norms(session)
    assert sorted(session.execute(tallied_levels(ids)).all()) == sorted(
        counted_levels(session, ids)
    ), "the tallies differ from the summaries: the benchmark would compare unequal answers"
    norms = [session.get(Norm, norm_id) for norm_id in ids]
    counted = responders(session, ids)
    assert {
        n: c.responses for n, c in coverage_for_norms(session, norms).items() if c.responses
    } == (counted), "the tallies' responses differ from the responses"
    return {
        "norms": len(ids),
        "counted": timed_ms(lambda: (counted_levels(session, ids), responders(session, ids))),
        "tallied": timed_ms(lambda: session.execute(tallied_levels(ids)).all()),
    }


def writes(session) -> dict[str, float]:
    """Per event (one commit each, rolled back by a savepoint) and per bulk delivery."""
    from sqlalchemy import select

    from normhub.accounts.models import User
    from normhub.communities.models import Membership
    from normhub.db import utcnow
    from normhub.exposure.bulk import Delivery, record_deliveries
    from normhub.exposure.ledger import record_event
    from normhub.norms.models import Norm

    norm = session.get(Norm, open_norms(session)[0])
    members = list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.community_id == norm.community_id, Membership.left_at.is_(None))
            .order_by(User.id)
        )
    )
    readers = members[:EVENTS_PER_PASS]

    def events() -> None:
        savepoint = session.begin_nested()
        for reader in readers:
            record_event(session, reader, norm, norm.current_version_number, "read")
            session.flush()
        savepoint.rollback()

    delivery = Delivery(norm.id, norm.current_version_number, norm.last_material_version_number)
    at = utcnow()

    def deliveries() -> None:
        savepoint = session.begin_nested()
        record_deliveries(session, [(member.id, delivery, at) for member in members])
        savepoint.rollback()

    per_event = timed_ms(events, passes=3) / len(readers)
    return {
        "event_ms": per_event,
        "delivery_ms": timed_ms(deliveries, passes=3),
        "members": len(members),
    }


def without_triggers(session, url: str) -> None:
    from sqlalchemy import text

    if url.startswith("postgresql"):
        for table in ("exposure_summaries", "memberships"):
            session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        return
    names = session.scalars(
        text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'coverage_%'")
    ).all()
    for name in names:
        session.execute(text(f"DROP TRIGGER {name}"))
    session.commit()


def measure(url: str, instance: Path) -> dict:
    from normhub import create_app
    from normhub.db import dispose_engines, get_session

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark"}, instance_path=str(instance))
    figures = {}
    with app.app_context():
        session = get_session()
        figures["reads"] = reads(session)
        figures["with"] = writes(session)
        session.rollback()
        if url.startswith("postgresql"):
            session.begin()
            without_triggers(session, url)  # rolled back below: the database keeps them
            figures["without"] = writes(session)
            session.rollback()
        else:
            copy = Path(url.removeprefix("sqlite:///")).with_suffix(".without.sqlite3")
            shutil.copyfile(url.removeprefix("sqlite:///"), copy)
            figures["without"] = measure_without_sqlite(f"sqlite:///{copy}", instance)
    dispose_engines(app)
    return figures


def measure_without_sqlite(url: str, instance: Path) -> dict:
    from normhub import create_app
    from normhub.db import dispose_engines, get_session

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark"}, instance_path=str(instance))
    with app.app_context():
        session = get_session()
        without_triggers(session, url)
        result = writes(session)
        session.rollback()
    dispose_engines(app)
    return result


def report(backend: str, scale: float, plan: dict, figures: dict, command: str) -> str:
    r, w, wo = figures["reads"], figures["with"], figures["without"]
    rows = [
        (
            f"levels and responses of the {r['norms']} open norms of the big community",
            f"{r['tallied']:.2f} ms",
            f"{r['counted']:.2f} ms",
            f"{r['counted'] / r['tallied']:.0f}x faster",
        ),
        (
            'one ledger event ("read", in its own flush)',
            f"{w['event_ms']:.3f} ms",
            f"{wo['event_ms']:.3f} ms",
            f"{w['event_ms'] / wo['event_ms']:.2f}x",
        ),
        (
            f"a digest's delivery of one norm to {w['members']:,} members (one bulk upsert)",
            f"{w['delivery_ms']:.1f} ms",
            f"{wo['delivery_ms']:.1f} ms",
            f"{w['delivery_ms'] / wo['delivery_ms']:.2f}x",
        ),
    ]
    table = "\n".join("| " + " | ".join(row) + " |" for row in rows)
    return f"""# Coverage tallies ({backend}, scale {scale})

Run: {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())} on {machine_description()}.
Command: `{command}`

Dataset: the page benchmark's at scale {scale}: {plan["members"]:,} members,
{plan["norms"]:,} norms, {plan["events"]:,} ledger events. Wall times, median of {PASSES}
passes (writes: of 3), each after one to warm up.

| what | tallies | before (counted from the summaries and responses / no triggers) | ratio |
|---|---:|---:|---:|
{table}

Reading the tallies costs a few rows per norm; counting read a row per exposed
member and norm, so its cost grows with the community while the tallies' does not.
The writes pay for keeping them: the triggers' share is the ratio in the last column.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--results", default=None)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="normhub-tallies-"))
    url = (
        f"sqlite:///{workdir / 'bench.sqlite3'}"
        if args.database == "sqlite"
        else create_postgres_database(args.database)
    )
    try:
        from normhub.cli import upgrade_database

        upgrade_database(url)
        plan = build_dataset(url, args.scale)
        figures = measure(url, workdir / "instance")
    finally:
        if url.startswith("postgresql"):
            drop_postgres_database(url)
        shutil.rmtree(workdir, ignore_errors=True)
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    command = "python " + " ".join(["benchmarks/coverage_tallies.py", *sys.argv[1:]])
    text = report(backend, args.scale, plan, figures, command)
    print(text)
    out = Path(args.results) if args.results else RESULTS / f"coverage-tallies-{backend}.md"
    out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
