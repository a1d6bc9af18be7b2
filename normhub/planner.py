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


class unindexed_number(unindexed):  # noqa: N801
    """A number ``column`` that neither database's planner should walk an index for.

    For ``in_ids`` on PostgreSQL: its list is one array parameter, whose length the
    planner cannot see, so it guesses thousands of rows for a list of one. Asked for one
    member's rows of a path's 350 norms, it walked the norms' index through 366,000
    entries (10 ms) instead of the member's 200 rows. PostgreSQL gets ``(column + 0)``.
    """

    inherit_cache = True
    name = "unindexed_number"


@compiles(unindexed_number, "postgresql")
def _no_index_postgresql(element: unindexed_number, compiler, **kw) -> str:
    (column,) = element.clauses.clauses
    return f"({compiler.process(column, **kw)} + 0)"
