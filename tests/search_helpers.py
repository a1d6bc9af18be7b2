"""Helpers shared by the search tests."""

from __future__ import annotations

from normhub.discussion.models import Comment
from normhub.discussion.services import post_comment
from normhub.norms.services import AssumptionInput, NormDraft
from normhub.search.backend import backend_for


def indexed(app) -> dict[str, dict]:
    """Every document in the app's index, by id, with its stored fields."""
    return backend_for(app).documents()


def add_comment(session, norm, author, body: str) -> Comment:
    """A comment through the discussion service, committed."""
    comment = post_comment(session, norm, author, body)
    session.commit()
    return comment


def draft_like(norm_version, **changes) -> NormDraft:
    fields = {
        "title": norm_version.title,
        "summary": norm_version.summary,
        "body": norm_version.body,
        "assumptions": [
            AssumptionInput(a.statement, a.explanation, a.key) for a in norm_version.assumptions
        ],
        "tags": [],
    }
    fields.update(changes)
    return NormDraft(**fields)
