"""A small on-disk queue of norm and comment ids whose indexing is still owed.

Used when the index lock stays taken (another process writing, a rebuild
running) or indexing failed. Lines are JSON objects appended under an flock,
so several processes can add and take at once. The queue is a sibling file of
the index directory, so it still works when the index directory itself is
broken or unwritable.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from pathlib import Path

from normhub.search.documents import PendingIds

logger = logging.getLogger("normhub.search")


def queue_path(index_directory: Path) -> Path:
    index_directory = Path(index_directory)
    return index_directory.parent / f"{index_directory.name}.pending.jsonl"


def add(index_directory: Path, pending: PendingIds) -> None:
    if not pending:
        return
    path = queue_path(index_directory)
    os.makedirs(path.parent, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.write(pending.as_json() + "\n")
            handle.flush()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def take(index_directory: Path) -> PendingIds:
    """Everything queued so far, removing it from the queue."""
    path = queue_path(index_directory)
    taken = PendingIds()
    if not path.exists():
        return taken
    with open(path, "r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            lines = handle.read().splitlines()
            handle.seek(0)
            handle.truncate()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    for line in lines:
        try:
            item = json.loads(line)
            taken.norms.update(int(i) for i in item.get("norms", ()))
            taken.comments.update(int(i) for i in item.get("comments", ()))
            taken.users.update(int(i) for i in item.get("users", ()))
        except (ValueError, TypeError, AttributeError):
            logger.warning("Skipping unreadable line in the search queue: %r", line[:200])
    return taken


def is_empty(index_directory: Path) -> bool:
    """Whether nothing is queued: a look at the file's size, read after every index write."""
    try:
        return queue_path(index_directory).stat().st_size == 0
    except FileNotFoundError:
        return True


def peek(index_directory: Path) -> PendingIds:
    """What is queued, without taking it (for ``flask search status``)."""
    path = queue_path(index_directory)
    found = PendingIds()
    if not path.exists():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        found.norms.update(item.get("norms", ()))
        found.comments.update(item.get("comments", ()))
        found.users.update(item.get("users", ()))
    return found


def clear(index_directory: Path) -> None:
    take(index_directory)
