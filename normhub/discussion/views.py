from flask import Blueprint

bp = Blueprint("discussion", __name__)


def norm_page_context(session, norm, viewer) -> dict:
    """Template variables for the discussion panel of the norm page (filled in by discussion)."""
    return {}
