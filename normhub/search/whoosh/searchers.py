"""Searchers on the Whoosh index, reused per thread and refreshed after other writers commit."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path

from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher

from normhub.search.whoosh.schema import open_index

logger = logging.getLogger("normhub.search")

_local = threading.local()


def searcher_for(directory: Path):
    """A current searcher on the index in ``directory``, or None if there is no index."""
    directory = Path(directory)
    cache = getattr(_local, "searchers", None)
    if cache is None:
        cache = _local.searchers = {}
    key = str(directory)
    searcher = cache.get(key)
    if searcher is not None:
        try:
            if searcher.up_to_date():
                return searcher
            fresh = _refreshed(searcher)
            cache[key] = fresh
            return fresh
        except Exception:  # index replaced under us (rebuild, removed dir): reopen
            logger.info("Reopening search index at %s", directory, exc_info=True)
            cache.pop(key, None)
            with contextlib.suppress(Exception):
                searcher.close()
    ix = open_index(directory, create=False)
    if ix is None:
        return None
    # A concurrent merge may delete a segment between reading the table of
    # contents and opening its files: try again with the newer generation.
    for attempt in range(3):
        try:
            searcher = ix.searcher()
            break
        except OSError:
            if attempt == 2:
                raise
            time.sleep(0.01)
            ix = open_index(directory, create=False)
    cache[key] = searcher
    return searcher


def _refreshed(searcher):
    """A searcher on the newest generation, reopening only the segments that changed.

    Not Whoosh's ``Searcher.refresh()``: it keeps a reused segment's old
    deletions (a replaced or hidden document stays findable) and keeps
    segments a merge removed (their documents are found twice).
    """
    ix = searcher._ix
    toc = ix._read_toc()
    old = {reader.segment().segment_id(): reader for reader, _ in searcher.reader().leaf_readers()}
    readers = []
    try:
        for segment in toc.segments:
            reader = old.get(segment.segment_id())
            if reader is not None and set(reader.segment().deleted_docs()) == set(
                segment.deleted_docs()
            ):
                del old[segment.segment_id()]
            else:
                reader = SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation)
            readers.append(reader)
    except BaseException:
        for reader in readers:
            if reader.segment().segment_id() not in old:
                reader.close()
        raise
    for reader in old.values():
        with contextlib.suppress(Exception):
            reader.close()
    # Always a MultiReader: a reused segment reader remembers the generation
    # it was opened in, and the searcher must report the current one.
    combined = (
        MultiReader(readers, generation=toc.generation) if readers else EmptyReader(toc.schema)
    )
    return Searcher(combined, fromindex=ix)


def forget_searchers() -> None:
    for searcher in getattr(_local, "searchers", {}).values():
        with contextlib.suppress(Exception):  # closing a searcher on a removed index
            searcher.close()
    _local.searchers = {}
