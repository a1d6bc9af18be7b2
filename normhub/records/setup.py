"""What the records feature adds: the community's record page, the record section of a
member's page, and the lists its counts open. It only reads."""

from __future__ import annotations

from flask import Flask

from normhub.forum.member_page import add_section
from normhub.records.views import bp, member_section


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_section(app, member_section)
