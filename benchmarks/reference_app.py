"""Ceilings for the exposure benchmark: the least database work a check could do.

Flask with one JSON route answering the exposure URLs like ``bare_app``, but
each request also reads one row by primary key (the subject's user row) and,
with ``REFERENCE_RECORDS=1``, records one check (the INSERT NormHub does on
every check), both through NormHub's own direct path (``normhub.autocommit``:
the same connection settings, autocommit, and on SQLite the same writer
queue). No token, no policy, no report: whatever req/s these reach is the
most any exposure check that reads and records on this database and machine
could reach, so the benchmark prints them beside the real check.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

from flask import Flask, jsonify
from sqlalchemy import bindparam, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from normhub.accounts.models import User  # noqa: E402
from normhub.autocommit import DirectConnection, DirectStatement, make_direct_engine  # noqa: E402
from normhub.exposure.check import record_check  # noqa: E402
from normhub.jsonprovider import OrjsonProvider  # noqa: E402
from normhub.norms.models import Norm  # noqa: E402

READ = DirectStatement(select(User.id, User.display_name).where(User.id == bindparam("id")))
RECORDS = os.environ.get("REFERENCE_RECORDS") == "1"
REPORT = SimpleNamespace(
    current_level="none",
    stale=False,
    answer="Reference: no report made.",
    recommendation=None,
    as_of=None,
)

app = Flask(__name__)
app.json = OrjsonProvider(app)  # as NormHub answers
engine = make_direct_engine(os.environ["NORMHUB_DATABASE_URL"])
_first_norm = DirectConnection(engine)
try:
    # Any norm will do as the checked one: the record needs a real one.
    NORM = SimpleNamespace(
        id=DirectStatement(select(func.min(Norm.id).label("id"))).first(_first_norm, {}).id
    )
finally:
    _first_norm.close()


@app.get("/api/v1/<path:rest>")
def reference(rest: str):
    last = rest.rsplit("/", 1)[-1]
    subject_id = int(last) if last.isdigit() else 1
    db = DirectConnection(engine)
    try:
        row = READ.first(db, {"id": subject_id})
        if RECORDS and row is not None:
            record_check(db, row, row, NORM, REPORT)
    finally:
        db.close()
    return jsonify({"subject": row.display_name if row else None})
