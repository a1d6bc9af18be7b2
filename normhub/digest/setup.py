"""What the digest brings to the app: its pages and the ``flask digest`` commands."""

from __future__ import annotations

from flask import Flask

from normhub.digest.cli import digest_cli
from normhub.digest.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(digest_cli)
