"""A hint for SQLite's query planner, where its guess goes wrong at scale.

SQLite keeps no histogram of a column's values, so it takes a range on an
indexed column (``created_at >= :since``) or a list of a few values
(``community_id IN (...)``) for narrow, and walks that index, when the batch of
members a query is for (``author_id IN (...)``) would have found its few rows
directly. ``unindexed(column)`` is the column as SQLite's own documentation
advises for this (``+column``: the same value, no index); PostgreSQL estimates
from its statistics and gets the column as written.
"""

from __future__ import annotations

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class unindexed(FunctionElement):  # noqa: N801 - used like the SQL functions it renders as
    """``column``, which SQLite's planner should not pick an index for."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column):
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _as_written(element: unindexed, compiler, **kw) -> str:
    (column,) = element.clauses.clauses
    return compiler.process(column, **kw)


@compiles(unindexed, "sqlite")
def _no_index(element: unindexed, compiler, **kw) -> str:
    (column,) = element.clauses.clauses
    return f"+{compiler.process(column, **kw)}"
