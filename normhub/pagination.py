from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from normhub.errors import ValidationFailed

MAX_PAGE = 10_000


@dataclass
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_number(raw: str | None) -> int:
    """A page number from a query argument on a page; anything odd means page 1.

    Pages forgive (a person edited the address); the API refuses instead, with
    ``number_argument``, as its schema says.
    """
    try:
        return min(max(int(raw or 1), 1), MAX_PAGE)
    except ValueError:
        return 1


def paginate(session: Session, query: Select, number: int, per_page: int) -> Page:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(session.execute(query.limit(per_page).offset((number - 1) * per_page)).all())
    # Single-entity queries give rows of one element: hand back the entities.
    if items and len(items[0]) == 1:
        items = [row[0] for row in items]
    return Page(items=items, number=number, per_page=per_page, total=total or 0)


def number_argument(raw: str | None, name: str, default: int, minimum: int, maximum: int) -> int:
    """A whole number from a query argument, ``default`` when absent; ValidationFailed (a 400)
    when it is not a whole number from ``minimum`` to ``maximum``."""
    if raw is None:
        return default
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) <= len(str(maximum)):
        value = int(text)
        if minimum <= value <= maximum:
            return value
    raise ValidationFailed(
        f"“{name}” must be a whole number from {minimum:,} to {maximum:,}.", field=name
    )
