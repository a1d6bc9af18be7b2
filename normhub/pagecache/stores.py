"""Where kept pages and tag versions live: this machine, or a Redis server.

Both stores offer the same four calls: ``get`` a page entry, ``put`` one for a
while, read the ``versions`` of some tags (missing tags are at 0) and ``bump``
tags after a commit. Every bump also bumps :data:`EPOCH`, so a page rendered
while any write committed is never kept (see ``serving``).

* :class:`LocalStore` keeps pages in this process's memory, least recently
  used first out once they pass a size bound, and tag versions in a small
  SQLite file in the instance folder, so the gunicorn workers of one machine
  see each other's bumps at once (a bump in one worker makes the other
  workers' pages stale as well).
* :class:`RedisStore` keeps both in Redis under a key prefix, so several
  machines share pages and bumps.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
import redis

EPOCH = "epoch"


@dataclass(frozen=True)
class Entry:
    """A kept page: its bytes and the tag versions it was built from."""

    body: bytes
    content_type: str
    versions: dict[str, int]

    @property
    def size(self) -> int:
        return len(self.body) + 64 * (1 + len(self.versions))

    def encode(self) -> bytes:
        head = orjson.dumps({"type": self.content_type, "versions": self.versions})
        return len(head).to_bytes(4, "big") + head + self.body

    @classmethod
    def decode(cls, data: bytes) -> Entry:
        length = int.from_bytes(data[:4], "big")
        head = orjson.loads(data[4 : 4 + length])
        return cls(data[4 + length :], head["type"], head["versions"])


class LocalStore:
    """Pages in memory (LRU, bounded in bytes); tag versions in a shared SQLite file."""

    def __init__(self, versions_file: Path, max_bytes: int):
        self.max_bytes = max_bytes
        self._pages: OrderedDict[str, tuple[float, Entry]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._path = str(versions_file)
        self._local = threading.local()
        with self._connection() as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS tag_versions"
                " (tag TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID"
            )

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._path, timeout=15, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
        return connection

    def get(self, key: str) -> Entry | None:
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return None
            expires, entry = found
            if expires < time.monotonic():
                self._drop(key)
                return None
            self._pages.move_to_end(key)
            return entry

    def put(self, key: str, entry: Entry, ttl: int) -> None:
        if entry.size > self.max_bytes:
            return
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = (time.monotonic() + ttl, entry)
            self._bytes += entry.size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._pages)))

    def _drop(self, key: str) -> None:
        _, entry = self._pages.pop(key)
        self._bytes -= entry.size

    def versions(self, tags: Sequence[str]) -> list[int]:
        if not tags:
            return []
        found: dict[str, int] = {}
        connection = self._connection()
        # SQLite allows 32,766 parameters; a page's tags stay far below.
        for start in range(0, len(tags), 900):
            chunk = tags[start : start + 900]
            marks = ",".join("?" * len(chunk))
            found.update(
                connection.execute(
                    f"SELECT tag, version FROM tag_versions WHERE tag IN ({marks})",  # noqa: S608
                    chunk,
                ).fetchall()
            )
        return [found.get(tag, 0) for tag in tags]

    def bump(self, tags: Iterable[str]) -> None:
        rows = [(tag,) for tag in {*tags, EPOCH}]
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(
                "INSERT INTO tag_versions (tag, version) VALUES (?, 1)"
                " ON CONFLICT (tag) DO UPDATE SET version = version + 1",
                rows,
            )
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0


class RedisStore:
    """Pages and tag versions in Redis, under ``prefix``: shared by every server."""

    def __init__(self, url: str, prefix: str):
        self.client = redis.Redis.from_url(url)
        self.prefix = f"{prefix}:pagecache:"

    def get(self, key: str) -> Entry | None:
        data = self.client.get(self.prefix + "page:" + key)
        return Entry.decode(data) if data is not None else None

    def put(self, key: str, entry: Entry, ttl: int) -> None:
        self.client.set(self.prefix + "page:" + key, entry.encode(), ex=ttl)

    def versions(self, tags: Sequence[str]) -> list[int]:
        if not tags:
            return []
        values = self.client.mget([self.prefix + "tag:" + tag for tag in tags])
        return [int(value) if value is not None else 0 for value in values]

    def bump(self, tags: Iterable[str]) -> None:
        # Tag keys never expire: a version that fell back to 0 and climbed again
        # could match a page built at that number before. One MULTI: a reader never
        # sees a tag bumped and the epoch not yet (it would keep what it read before
        # the write under the tag's new version).
        pipeline = self.client.pipeline(transaction=True)
        for tag in {*tags, EPOCH}:
            pipeline.incr(self.prefix + "tag:" + tag)
        pipeline.execute()

    def clear(self) -> None:
        for key in self.client.scan_iter(self.prefix + "page:*", count=1000):
            self.client.delete(key)
