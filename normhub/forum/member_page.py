"""A member's page, composed: the forum's own lists, and the sections features above add.

The forum knows none of those features: each adds its section from its setup
(:func:`add_section`). A section is ``section(session, member, viewer) -> Markup``, the
HTML it renders, already limited to what ``viewer`` may see.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from markupsafe import Markup
from sqlalchemy.orm import Session

from normhub.accounts.models import User

SECTIONS = "normhub.member_page_sections"

Section = Callable[[Session, User, User | None], Markup]


def add_section(app: Flask, section: Section) -> None:
    app.extensions.setdefault(SECTIONS, []).append(section)


def sections(session: Session, member: User, viewer: User | None) -> list[Markup]:
    return [
        section(session, member, viewer) for section in current_app.extensions.get(SECTIONS, ())
    ]
