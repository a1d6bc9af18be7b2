"""Keeping Python's cyclic garbage collector off the objects a long batch run starts with.

A run that builds thousands of objects per batch and keeps them until the batch is
done (a digest run: each batch's facts and digests) has the collector's full
collections go through the whole heap again and again: the app, its modules, the
mappers and compiled statements, which live as long as the process. At 100,000
members those collections were a third of the digest build's CPU. Frozen
(``gc.freeze``), the objects the run starts with are left out of every collection;
the run's own objects are still collected as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Leaves the objects alive now out of the collector's work until the block ends,
    then hands them back to it (garbage among them is collected then, not lost).

    A process that froze its heap already (a server preloading the app before it
    forks) keeps it frozen: unfreezing at the end would undo its freeze too.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
