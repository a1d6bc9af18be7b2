"""The one interface the app searches and indexes through, and choosing its implementation.

Views, the API, the CLI, indexing after commits, the benchmark and the tests
call a ``SearchBackend`` and read the neutral types below; none of them sees
the engine's own types. ``backend_for(app)`` picks the implementation named
by the ``SEARCH_BACKEND`` setting: ``"postgres"`` (documents in the database,
written in the writer's transaction) or ``"whoosh"`` (a file index beside each
app server); unset, PostgreSQL databases get the first and SQLite the second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from normhub.search.documents import DocumentChanges, IndexStats, PendingIds
from normhub.search.postgres.backend import PostgresBackend
from normhub.search.query import FieldFilter, SearchQuery
from normhub.search.results import FacetValue, SearchHit, SearchResult
from normhub.search.whoosh.backend import WhooshBackend

__all__ = [
    "DocumentChanges",
    "FacetValue",
    "FieldFilter",
    "IndexStats",
    "PendingIds",
    "SearchBackend",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "backend_for",
]

BACKENDS: dict[str, Callable] = {"postgres": PostgresBackend, "whoosh": WhooshBackend}
_EXTENSION_KEY = "normhub.search.backend"


class SearchBackend(Protocol):
    """Indexing and searching norms and comments.

    Writes never raise into the caller. A backend whose documents live in the
    database (``indexes_in_transaction``) writes them in the writer's own
    transaction (``index_within``); the others write after the commit
    (``index``) and keep what they cannot write now for later
    (``process_queue``) or for ``rebuild``.
    """

    name: str
    indexes_in_transaction: bool
    location: str  # where the index is, for messages

    def index_within(self, session, pending: PendingIds) -> bool:
        """Write ``pending``'s documents in ``session``'s transaction; False if not done."""

    def index(self, pending: PendingIds) -> bool:
        """Bring the documents of ``pending`` in line with the database; True if written now."""

    def write(self, documents: Iterable[dict] = (), removed: Iterable[str] = ()) -> None:
        """Write ``documents`` (replacing those with the same id) and remove document ids.

        Removing ``norm:<id>`` removes that norm's comments too.
        """

    def search(self, query: SearchQuery) -> SearchResult:
        """One page of what the query's viewer may see: hits, exact total and facet counts.

        Nothing from a community outside ``query.communities`` counts anywhere.
        """

    def suggest(self, query: SearchQuery) -> str | None:
        """The query's text with unknown words replaced by close known ones, if any.

        Known means: in a document of one of ``query.communities``. A word found
        only in communities the viewer may not see is neither known nor offered.
        """

    def rebuild(self, batch_size: int = 500, progress: Callable[[int], None] | None = None) -> int:
        """Index everything in the database afresh; returns how many documents."""

    def process_queue(self) -> int:
        """Apply the updates that were postponed; returns how many ids were taken."""

    def merge(self) -> int:
        """Tidy up after many small updates; returns how many parts were merged."""

    def optimize(self) -> None:
        """Make the index as fast to search as it can be (may take long)."""

    def warm(self) -> int:
        """Read now what a process's first search would otherwise read; returns the parts read.

        Called as an app server's worker starts, before it takes requests.
        """

    def stats(self) -> IndexStats:
        """How much the index holds and how many updates are still owed."""

    def documents(self) -> dict[str, dict]:
        """Every indexed document by id, with its stored fields (for checks and tests)."""


def default_name(app) -> str:
    """PostgreSQL databases search themselves; SQLite gets the embedded Whoosh index."""
    url = str(app.config.get("DATABASE_URL") or "")
    return "postgres" if url.startswith("postgresql") else "whoosh"


def backend_for(app) -> SearchBackend:
    """The app's search backend, made on first use from ``SEARCH_BACKEND``."""
    # The backend outlives requests (background merges): keep the app, not a proxy.
    app = app._get_current_object() if hasattr(app, "_get_current_object") else app
    backend = app.extensions.get(_EXTENSION_KEY)
    if backend is None:
        name = app.config["SEARCH_BACKEND"] = app.config.get("SEARCH_BACKEND") or default_name(app)
        if name not in BACKENDS:
            known = ", ".join(sorted(BACKENDS))
            raise ValueError(f"Unknown SEARCH_BACKEND {name!r}; known backends: {known}")
        backend = app.extensions[_EXTENSION_KEY] = BACKENDS[name](app)
    return backend
