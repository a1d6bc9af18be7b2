"""The "Start here" page of a community: its path for newcomers.

A member sees how far they are ("3 of 12 read and understood") and the next
norm to read; anyone else who may see the community sees the same path and an
invitation to join. A members-only community is a 404 to an outsider, as all
its pages are.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from normhub.auth import current_user_or_none
from normhub.communities.services import active_membership, get_visible_community
from normhub.db import get_session
from normhub.exposure.path_progress import STATE_LABELS, path_progress
from normhub.norms.path import READING_WPM, community_path

bp = Blueprint("newcomers", __name__)

# A path is for reading in order: a community with more norms in force than anyone
# reads in a sitting shows the first ones, and says how many more there are.
STEPS_SHOWN = 200


@bp.route("/c/<slug>/start")
def start(slug: str):
    session = get_session()
    viewer = current_user_or_none()
    community = get_visible_community(session, slug, viewer)
    membership = active_membership(session, community, viewer)
    path = community_path(session, community)
    progress = path_progress(session, viewer, path) if membership is not None else None
    return render_template(
        "newcomers/start.html",
        community=community,
        membership=membership,
        path=path,
        steps=path.steps[:STEPS_SHOWN],
        progress=progress,
        state_labels=STATE_LABELS,
        reading_wpm=READING_WPM,
    )
