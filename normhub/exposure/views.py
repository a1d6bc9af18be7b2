from flask import Blueprint

bp = Blueprint("exposure", __name__)


def norm_page_context(session, norm, viewer, version) -> dict:
    """Template variables for the exposure panel of the norm page; records "opened"."""
    return {}
