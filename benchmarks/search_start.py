"""The first search an app server worker answers after it starts, without and with its warm-up.

A worker that has just started has no search caches (Whoosh: each segment's community
and facet sets; PostgreSQL: no pooled connection). Each query of the mix runs once in
that state, and once more after ``normhub.warmup.run`` (what gunicorn's
``post_worker_init`` hook calls), so both figures come from the same run.
"""

from __future__ import annotations

import time

from normhub import warmup
from normhub.accounts.models import User
from normhub.search import services as search_services
from normhub.search.whoosh import matching, searchers


def _as_if_just_started(app) -> None:
    matching._segments.clear()
    searchers._local.__dict__.clear()
    app.extensions["normhub.engine"].dispose()


def first_queries_after_start(app, reader_id: int, texts: list[str]) -> dict:
    sessionmaker = app.extensions["normhub.sessionmaker"]
    found: dict[str, list[float]] = {"cold": [], "warmed": [], "warm_up": []}
    with app.app_context():
        for warmed in (False, True):
            for text in texts:
                _as_if_just_started(app)
                if warmed:
                    started = time.perf_counter()
                    warmup.run(app)
                    found["warm_up"].append(time.perf_counter() - started)
                session = sessionmaker()
                try:
                    started = time.perf_counter()
                    search_services.search(session, session.get(User, reader_id), text)
                    found["warmed" if warmed else "cold"].append(time.perf_counter() - started)
                finally:
                    session.close()
    return found
