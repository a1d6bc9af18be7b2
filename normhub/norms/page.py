"""The norm page, composed from the panels that features register.

The norms feature owns the page but knows none of its panels' features:
responses, exposure and discussion each add a panel in their own setup
(:func:`add_panel`). A panel is ``panel(session, norm, viewer, version,
forms) -> dict`` of template variables; ``forms`` carries a form a POST view
is re-showing with its errors (``forms["response"]``, say).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from flask import Flask, current_app, render_template, request, url_for
from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from normhub import events
from normhub.auth import current_user_or_none
from normhub.communities.models import Community
from normhub.communities.services import (
    get_visible_community,
    members_mentioned,
    memberships_kept_through_commit,
    visible_communities_clause,
    visible_to_clause,
)
from normhub.cooked import handles_in
from normhub.db import get_session, set_write_intent
from normhub.norms import services
from normhub.norms.models import Norm, NormPrerequisite, NormVersion

PANELS = "normhub.norm_page_panels"
COMMENT_PANELS = "normhub.comment_page_panels"
NORM_URL = "/c/<slug>/norms/<norm_ref>"

Panel = Callable[..., dict]


def load_norm(slug: str, norm_ref: str) -> tuple[Session, Community, Norm]:
    """The norm at this address, if the viewer may see its community (else 404)."""
    session = get_session()
    community = get_visible_community(session, slug, current_user_or_none())
    norm = services.get_norm(session, community, norm_ref)
    return session, community, norm


def norm_url(norm: Norm, anchor: str | None = None, endpoint: str = "norms.show", **kwargs) -> str:
    """A page of ``norm`` (its main page by default), optionally at ``#anchor``."""
    url = url_for(endpoint, slug=norm.community.slug, norm_ref=norm.slug, **kwargs)
    return f"{url}#{anchor}" if anchor else url


def add_panel(app: Flask, panel: Panel, *, on_comment_pages: bool = False) -> None:
    """Add ``panel`` to the norm page; ``on_comment_pages``: to the later pages of its
    comments too (what a panel adds to each comment, say)."""
    app.extensions.setdefault(PANELS, []).append(panel)
    if on_comment_pages:
        app.extensions.setdefault(COMMENT_PANELS, []).append(panel)


def comment_page_context(session: Session, norm: Norm, viewer) -> dict:
    """What the panels added with ``on_comment_pages`` give a later page of comments."""
    context: dict = {}
    for panel in current_app.extensions.get(COMMENT_PANELS, ()):
        context.update(panel(session, norm, viewer, None, {}))
    return context


def prerequisites(session: Session, norm: Norm, viewer) -> list[Norm]:
    """The norms this one builds on, limited to communities the viewer can see."""
    if viewer is None:
        statement, viewer_id = _prerequisites_statement(None), None
    else:
        statement, viewer_id = _prerequisites_statement(bool(viewer.is_admin)), viewer.id
    return list(session.scalars(statement, {"norm_id": norm.id, "viewer_id": viewer_id}))


@cache
def _prerequisites_statement(viewer_is_admin: bool | None):
    """Built once for visitors (None), members and admins, with the norm's and the
    viewer's ids bound at run time: building it cost more CPU than running it."""
    visible = (
        visible_communities_clause(None)
        if viewer_is_admin is None
        else visible_to_clause(viewer_is_admin, bindparam("viewer_id"))
    )
    return (
        select(Norm)
        .join(NormPrerequisite, NormPrerequisite.prerequisite_id == Norm.id)
        .join(Community, Community.id == Norm.community_id)
        .where(NormPrerequisite.norm_id == bindparam("norm_id"), visible)
        .order_by(Norm.title)
    )


def record_opened(session: Session, norm: Norm, viewer) -> None:
    """The one write of a norm page view: announce that ``viewer`` has it open.

    The exposure ledger listens. The page matters more than the ledger row,
    so a failure to record is logged and the page is shown all the same.
    """
    try:
        with memberships_kept_through_commit(session):
            events.publish(session, events.Norm.Opened, norm=norm, viewer=viewer)
            session.commit()
    except SQLAlchemyError:
        session.rollback()
        current_app.logger.warning(
            "Could not record that user %s opened norm %s", viewer.id, norm.id
        )
    finally:
        set_write_intent(request.method not in ("GET", "HEAD", "OPTIONS"))


def render_norm_page(
    session: Session,
    community: Community,
    norm: Norm,
    forms: dict | None = None,
    status: int = 200,
):
    viewer = current_user_or_none()
    version = session.get(NormVersion, norm.current_version_id)
    context = {
        "community": community,
        "norm": norm,
        "version": version,
        "can_edit": services.can_edit(session, norm, viewer),
        "transitions": services.allowed_transitions(session, norm, viewer),
        "prerequisites": prerequisites(session, norm, viewer),
        "mentions": members_mentioned(session, community, handles_in([version], "body")),
    }
    for panel in current_app.extensions.get(PANELS, ()):
        context.update(panel(session, norm, viewer, version, forms or {}))
    return render_template("norms/show.html", **context), status
