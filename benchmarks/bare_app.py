"""The baseline for HTTP benchmarks: Flask with one JSON endpoint and nothing else.

Served with the same gunicorn settings as NormHub, it measures what the server,
the WSGI layer and Flask cost on their own, so a NormHub endpoint can be judged
as a fraction of it. It answers every path under /api/v1/ so the load generator
can replay exactly the same URLs (and headers) against both apps.
"""

from __future__ import annotations

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/api/v1/<path:_rest>")
def bare(_rest: str):
    return jsonify({"ok": True})
