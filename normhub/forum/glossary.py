"""The glossary: NormHub's own words (material, minor, the levels of exposure), one page.

Pages that use a word link to its entry (``url_for("glossary.page", _anchor=...)``).
"""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("glossary", __name__)


@bp.get("/glossary")
def page():
    return render_template("forum/glossary.html")
