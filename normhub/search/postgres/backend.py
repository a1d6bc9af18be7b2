"""The PostgreSQL search backend: documents in the app's own database.

Every app server sees every write at once, and a write's documents are
written in the writer's own transaction (``index_within``, under a
savepoint: a search failure never loses the write; the documents are then
written after the commit instead, by ``index``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from normhub.search.documents import IndexStats, PendingIds, read_session
from normhub.search.postgres import parsing, ranking, searching, spelling, store
from normhub.search.postgres.counting import EXACT_UP_TO
from normhub.search.query import FilterValues, SearchQuery
from normhub.search.results import NO_WORDS_NOTICE, SearchResult

logger = logging.getLogger("normhub.search")

_STORED = (
    "id, kind, norm_id, comment_id, community_id, community, status, tags, author, title, "
    "summary, body, assumptions, norm_title, norm_slug, created, updated"
)


class PostgresBackend:
    name = "postgres"
    indexes_in_transaction = True
    location = "the database"

    def __init__(self, app):
        self.app = app
        url = str(app.config.get("DATABASE_URL", ""))
        if not url.startswith("postgresql"):
            raise ValueError("SEARCH_BACKEND 'postgres' needs a PostgreSQL DATABASE_URL")
        self.statistics = ranking.StatisticsCache()

    @property
    def engine(self):
        return self.app.extensions["normhub.engine"]

    # --- keeping the documents in step ---------------------------------------------

    def index_within(self, session: Session, pending: PendingIds) -> bool:
        """Write ``pending``'s documents in ``session``'s transaction; False if that failed."""
        connection = session.connection()
        try:
            with connection.begin_nested():
                store.write_pending(connection, pending)
        except Exception:
            logger.exception("Search indexing in the transaction failed; retrying after commit")
            return False
        return True

    def index(self, pending: PendingIds) -> bool:
        if not pending:
            return True
        try:
            with read_session(self.app) as session:
                store.write_pending(session.connection(), pending)
                session.commit()
        except Exception:
            logger.exception(
                "Search indexing failed for %s; `flask search rebuild` repairs it",
                pending.as_json()[:200],
            )
            return False
        return True

    def write(self, documents: Iterable[dict] = (), removed: Iterable[str] = ()) -> None:
        with self.engine.begin() as connection:
            store.lock_shared(connection)
            store.write(connection, documents, removed)

    def process_queue(self) -> int:
        return 0  # nothing is ever postponed: writes happen in the writer's transaction

    def rebuild(self, batch_size: int = 500, progress: Callable[[int], None] | None = None) -> int:
        written = store.rebuild(self.engine, batch_size, progress)
        # Fresh statistics at once: until autovacuum came by, a rebuilt table looked never
        # analysed, so every search counted all its matches (a page at 100,000 members
        # and 200,000 comments took 460 ms instead of tens).
        self.optimize()
        return written

    def merge(self) -> int:
        return 0  # PostgreSQL keeps its GIN index tidy itself (autovacuum)

    def optimize(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(sql("ANALYZE search_documents"))
            connection.execute(sql("ANALYZE search_words"))

    def stats(self) -> IndexStats:
        with self.engine.connect() as connection:
            count = connection.scalar(sql("SELECT count(*) FROM search_documents"))
        return IndexStats(exists=True, documents=count or 0, segments=0, pending=PendingIds())

    def documents(self) -> dict[str, dict]:
        with self.engine.connect() as connection:
            rows = connection.execute(sql(f"SELECT {_STORED} FROM search_documents")).mappings()  # noqa: S608
            return {row["id"]: _stored(row) for row in rows}

    # --- searching ------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        result = query.new_result()
        values = FilterValues(query.communities)
        with searching.reading(self.engine) as connection:
            tree = parsing.parse(query.text, values) if query.text else None
            if tree is not None:
                parsing.fill_lexemes(connection, tree)
            result.notices.extend(values.notices())
            if tree is None or not parsing.matching(tree):
                if not query.filters:
                    result.notices.append(NO_WORDS_NOTICE)
                    return result
                tree = None
            result.searched = True
            if query.communities:
                exact_up_to = self.app.config.get("SEARCH_EXACT_COUNT_UP_TO", EXACT_UP_TO)
                searching.run(connection, query, tree, result, exact_up_to, self.statistics)
        return result

    def warm(self) -> int:
        # A worker's first search otherwise also opens its pool's connection and
        # loads the text search dictionary in that server process.
        with searching.reading(self.engine) as connection:
            connection.execute(
                sql("SELECT plainto_tsquery(CAST(:config AS regconfig), 'warming')"),
                {"config": parsing.CONFIG},
            )
            connection.execute(sql("SELECT id FROM search_documents LIMIT 1"))
            self.statistics.read(connection)  # the averages and frequencies ranking reads
        return 1

    def suggest(self, query: SearchQuery) -> str | None:
        if not query.text or not query.communities:
            return None
        with searching.reading(self.engine) as connection:
            return spelling.suggest(connection, query.text, sorted(query.communities))


def _stored(row) -> dict:
    """A row as the stored fields of a Whoosh document: ids as text, no empty fields."""
    fields = {key: value for key, value in dict(row).items() if value is not None}
    fields["tag"] = fields.pop("tags", "")
    for key in ("norm_id", "community_id"):
        if key in fields:
            fields[key] = str(fields[key])
    return fields
