"""The page benchmark's baseline: Flask answering each URL with the bytes NormHub returned.

benchmarks/pages.py records every page once from the real app (its body, and its
headers but those the server sets per response) and names the recording in
``SAME_BYTES_RECORDING``. Served with the same gunicorn settings (``gunicorn
'same_bytes_app:create_app()'``), this app costs what the server, WSGI and Flask
cost to send those bytes and nothing else, so a page's req/s can be judged as a
fraction of it.

A page is looked up by its path and query, and by whether the request carries a
session cookie (the same address answers a visitor and a member differently).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask import Flask, Response, abort, request

SESSION_COOKIE = "session"


def page_key(path_and_query: str, member: bool) -> str:
    return f"{'member' if member else 'visitor'} {path_and_query}"


def load_recording(path: Path) -> dict[str, tuple[bytes, list[tuple[str, str]]]]:
    """{page key: (body, headers)} from the recording's index and body files."""
    index = json.loads(path.read_text())
    return {
        key: (
            (path.parent / entry["body_file"]).read_bytes(),
            [tuple(header) for header in entry["headers"]],
        )
        for key, entry in index.items()
    }


def create_app(recording: str | None = None) -> Flask:
    """The app over a recording (by default the one ``SAME_BYTES_RECORDING`` names)."""
    pages = load_recording(Path(recording or os.environ["SAME_BYTES_RECORDING"]))
    app = Flask(__name__)

    @app.get("/", defaults={"_path": ""})
    @app.get("/<path:_path>")
    def recorded(_path: str):
        query = request.query_string.decode()
        path_and_query = f"{request.path}?{query}" if query else request.path
        page = pages.get(page_key(path_and_query, SESSION_COOKIE in request.cookies))
        if page is None:
            abort(404)
        body, headers = page
        return Response(body, headers=headers)

    return app
