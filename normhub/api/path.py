"""The path for newcomers as the API gives it (``GET /api/v1/communities/<slug>/path``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from normhub.accounts.models import User
from normhub.communities.models import Community
from normhub.exposure.path_progress import path_progress
from normhub.norms.path import READING_WPM, community_path


def path_document(session: Session, community: Community, member: User | None) -> dict:
    """The steps in order; ``progress`` and each step's ``state`` only for a member
    (null otherwise: a visitor's reading is nobody's business, and they have none here)."""
    path = community_path(session, community)
    progress = path_progress(session, member, path) if member is not None else None
    slugs = {step.norm.id: step.norm.slug for step in path.steps}
    return {
        "community": {"slug": community.slug, "name": community.name},
        "reading_wpm": READING_WPM,
        "minutes": path.minutes,
        "steps": [
            {
                "position": step.position,
                "norm": {
                    "id": step.norm.id,
                    "slug": step.norm.slug,
                    "title": step.norm.title,
                    "version_in_force": step.norm.in_force_version_number
                    or step.norm.current_version_number,
                },
                "words": step.words,
                "minutes": step.minutes,
                "cited_by": step.citations,
                "builds_on": [
                    slugs[norm_id] for norm_id in path.norm_ids if norm_id in step.builds_on
                ],
                "cycle_broken": step.cycle_broken,
                "state": progress.states[step.norm.id] if progress else None,
            }
            for step in path.steps
        ],
        "progress": None
        if progress is None
        else {
            "done": progress.done,
            "total": progress.total,
            "next": slugs.get(progress.next_norm_id),
            "sentence": progress.sentence,
        },
    }
