"""The home page, ``/``: for a visitor, what NormHub is and how it works, with live examples
from public communities; for a member, what needs them across their communities.

Every community stays one click away, at ``/communities`` (``forum.index``).
"""

from __future__ import annotations

from flask import Blueprint, render_template

from normhub.auth import current_user_or_none
from normhub.db import get_session
from normhub.home.member import what_needs
from normhub.home.visitor import showcase
from normhub.norms.models import STATUS_LABELS

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    session = get_session()
    viewer = current_user_or_none()
    if viewer is None:
        return render_template("home/visitor.html", showcase=showcase(session))
    return render_template(
        "home/member.html", home=what_needs(session, viewer), status_labels=STATUS_LABELS
    )
