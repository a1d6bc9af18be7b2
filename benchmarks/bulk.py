"""Writing a benchmark's rows fast, and the throw-away databases they go into.

``Writer`` inserts rows with executemany on SQLite and COPY on PostgreSQL, and can
drop a table's secondary indexes for the load and build them once afterwards.
A PostgreSQL benchmark creates its own database on the server it is given and
drops it at the end.
"""

from __future__ import annotations

import sqlite3
import time
import uuid


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Writer:
    """Bulk row insertion: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, url: str):
        self.url = url
        self.is_postgres = url.startswith("postgresql")
        if self.is_postgres:
            import psycopg

            self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        else:
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"))
            # A throw-away file: durability during the build buys nothing.
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("PRAGMA foreign_keys=OFF")
            self.conn.execute("PRAGMA cache_size=-200000")

    def insert(self, table: str, columns: tuple[str, ...], rows) -> int:
        count = 0
        if self.is_postgres:
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with self.conn.cursor() as cur, cur.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            self.conn.commit()
            return count
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 50_000:
                self.conn.executemany(sql, batch)
                count += len(batch)
                batch.clear()
        if batch:
            self.conn.executemany(sql, batch)
            count += len(batch)
        self.conn.commit()
        return count

    def insert_unindexed(self, table: str, columns: tuple[str, ...], rows) -> int:
        """Insert with the table's secondary indexes dropped, then rebuild them.

        Building an index once over sorted data is much faster than updating
        it row by row.
        """
        from sqlalchemy.dialects import postgresql, sqlite
        from sqlalchemy.schema import CreateIndex

        import normhub.models  # noqa: F401  (every table on the metadata)
        from normhub.db import Base

        indexes = list(Base.metadata.tables[table].indexes)
        dialect = postgresql.dialect() if self.is_postgres else sqlite.dialect()
        for index in indexes:
            self.conn.execute(f'DROP INDEX IF EXISTS "{index.name}"')
        self.conn.commit()
        count = self.insert(table, columns, rows)
        for index in indexes:
            self.conn.execute(str(CreateIndex(index).compile(dialect=dialect)))
        self.conn.commit()
        return count

    def execute(self, sql: str, params=()) -> None:
        self.conn.execute(sql, params)
        self.conn.commit()

    def finish(self, tables_with_ids: list[str]) -> None:
        refresh_coverage_tallies(self.url)
        if self.is_postgres:
            with self.conn.cursor() as cur:
                for table in tables_with_ids:
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    )
            self.conn.commit()
            self.conn.autocommit = True
            self.conn.execute("VACUUM ANALYZE")
        else:
            self.conn.execute("ANALYZE")
            self.conn.commit()
        self.conn.close()


def refresh_coverage_tallies(url: str) -> None:
    """What the ledger keeps beside the rows a loader wrote directly: each summary's
    responded base, then the coverage tallies counted from them."""
    from normhub.db import make_engine
    from normhub.exposure.tallies import fill_responded_bases, recount_tallies

    engine = make_engine(url)
    with engine.begin() as conn:
        fill_responded_bases(conn)
        recount_tallies(conn)
    engine.dispose()


def create_postgres_database(server_url: str) -> str:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from normhub.db import make_engine

    server = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"normhub_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from normhub.db import make_engine

    target = make_url(url)
    admin = make_engine(
        target.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


class Progress:
    """Logs row counts with the time since the build started."""

    def __init__(self):
        self.started = time.monotonic()

    def __call__(self, label: str, count: int) -> None:
        log(f"  {label}: {count:,} rows ({self.elapsed():.0f}s so far)")

    def elapsed(self) -> float:
        return time.monotonic() - self.started
