"""Markdown stored with its HTML ("cooked"), so that reading a page renders no Markdown.

A model keeps the HTML of a Markdown column with :func:`keep_cooked`: two columns
beside it, ``<name>_cooked`` and ``<name>_cooked_version``, hold the HTML and the
renderer version (``markdown.RENDERER_VERSION``) that made it. Setting the Markdown
through the ORM (a new row, an edit) cooks it at once, so it is stored in the same
flush; a bulk UPDATE, which passes the ORM by, takes its values from
:func:`cooked_values`.

A row whose HTML is missing (written before the columns existed, or by a bulk
INSERT) or was cooked by another renderer version is rendered afresh when read,
and not written back: a GET writes nothing. ``flask markdown recook``
(:func:`recook`) brings such rows up to date in batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import event, func, or_, select, true, update
from sqlalchemy.orm import Session

from normhub import markdown


@dataclass(frozen=True)
class CookedColumn:
    """A model's Markdown column and the two columns that keep its HTML."""

    model: type
    name: str

    @property
    def label(self) -> str:
        return f"{self.model.__tablename__}.{self.name}"

    @property
    def source(self):
        return getattr(self.model, self.name)

    @property
    def cooked(self):
        return getattr(self.model, f"{self.name}_cooked")

    @property
    def version(self):
        return getattr(self.model, f"{self.name}_cooked_version")

    def stale(self, everything: bool = False):
        """Rows to cook again: every row with ``everything``, else those whose HTML is
        missing or not the current renderer's."""
        if everything:
            return true()
        return or_(self.version.is_(None), self.version != markdown.RENDERER_VERSION)


COOKED_COLUMNS: list[CookedColumn] = []


def keep_cooked(model: type, name: str) -> None:
    """Keep the HTML of ``model.<name>`` beside it, cooked whenever the Markdown is set."""
    column = CookedColumn(model, name)
    COOKED_COLUMNS.append(column)

    def cook_on_set(target, value, _old, _initiator):
        for key, cooked in cooked_values(name, value).items():
            if key != name:
                setattr(target, key, cooked)

    event.listen(column.source, "set", cook_on_set)


def cooked_values(name: str, text: str) -> dict:
    """The values of the Markdown column ``name`` and its HTML columns, for a bulk UPDATE."""
    return {
        name: text,
        f"{name}_cooked": markdown.cook(text),
        f"{name}_cooked_version": markdown.RENDERER_VERSION,
    }


# Where a row keeps HTML rendered afresh while a request reads it (see ``cooked_html``).
_FRESH = "_normhub_fresh_cooked"


def cooked_html(row, name: str) -> str:
    """The HTML of ``row.<name>``: as stored when the current renderer made it, else
    rendered now (once per row and text, not stored)."""
    stored = getattr(row, f"{name}_cooked")
    current = getattr(row, f"{name}_cooked_version") == markdown.RENDERER_VERSION
    if stored is not None and current:
        return stored
    text = getattr(row, name) or ""
    if not text:
        return ""  # most explanations and profiles: nothing to render
    fresh = row.__dict__.setdefault(_FRESH, {})
    if fresh.get(name, (None,))[0] != text:
        fresh[name] = (text, markdown.cook(text))
    return fresh[name][1]


def html(row, name: str, mentions=None) -> Markup:
    """``row.<name>`` as HTML for a page, its @handles shown as ``mentions`` says
    (``markdown.serve``)."""
    return markdown.serve(cooked_html(row, name), mentions)


def handles_in(rows: Iterable, name: str) -> set[str]:
    """The @handles in the HTML of ``row.<name>`` of ``rows``: whom a page must look up."""
    handles: set[str] = set()
    for row in rows:
        handles |= markdown.cooked_handles(cooked_html(row, name))
    return handles


def count_stale(session: Session, column: CookedColumn, everything: bool = False) -> int:
    return session.scalar(
        select(func.count()).select_from(column.model).where(column.stale(everything))
    )


def recook(
    session: Session,
    column: CookedColumn,
    *,
    everything: bool = False,
    batch_size: int = 500,
) -> Iterator[int]:
    """Cook again the stale rows of ``column``, a batch at a time, oldest id first.

    Yields the number of rows of each batch once it is written; the caller commits
    between batches (so a long run holds no long transaction, and an interrupted one
    keeps what it did). Rows are taken by id, so a batch never comes round twice.
    """
    primary_key = column.model.__mapper__.primary_key[0]
    after = None
    while True:
        query = select(primary_key, column.source).where(column.stale(everything))
        if after is not None:
            query = query.where(primary_key > after)
        rows = session.execute(query.order_by(primary_key).limit(batch_size)).all()
        if not rows:
            return
        session.execute(
            update(column.model),
            [{primary_key.key: row[0], **cooked_values(column.name, row[1] or "")} for row in rows],
        )
        after = rows[-1][0]
        yield len(rows)


def recook_all(
    open_session: Callable, *, everything: bool, batch_size: int, progress: Callable
) -> dict[str, int]:
    """:func:`recook` every kept column, committing each batch; rows cooked, by column.
    ``progress(column, rows)`` hears of each batch."""
    counts = {}
    for column in COOKED_COLUMNS:
        counts[column.label] = 0
        with open_session() as session:
            for rows in recook(session, column, everything=everything, batch_size=batch_size):
                session.commit()
                counts[column.label] += rows
                progress(column, rows)
    return counts
