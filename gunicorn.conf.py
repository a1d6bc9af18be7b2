"""Production settings for gunicorn, which reads this file from the working directory.

``gunicorn wsgi:app`` picks it up; the exposure benchmark serves both of its apps with it.

Workers: one per core. NormHub's requests are mostly CPU (Python) with short
database waits, and the database often shares the machine (SQLite always
does): on 2 cores, (2 × cores) + 1 workers, gunicorn's usual starting point,
lowered the exposure check's throughput by a third and tripled its p99
(benchmarks/exposure.py --workers 5). With PostgreSQL on another machine the
waits are longer and more workers may pay: set WEB_CONCURRENCY and measure.
Each worker keeps two small connection pools (sessions, and the autocommit
one of the API's exposure check): budget PostgreSQL's max_connections for both.
"""

import gc
import os

from gunicorn.workers.base import Worker

# Behind a reverse proxy on the same machine; NORMHUB_BIND=0.0.0.0:8000 to listen on all.
bind = os.environ.get("NORMHUB_BIND", "127.0.0.1:8000")
# The cores this process may run on (a container or taskset may allow fewer than exist).
workers = int(os.environ.get("WEB_CONCURRENCY", len(os.sched_getaffinity(0))))


def post_worker_init(worker):
    """Let the app read what its first requests would (the search index's sets) before serving.

    Only NormHub's app has warm-up steps; the benchmarks' reference apps, served with
    these same settings, have none.
    """
    warm_up = getattr(worker.wsgi, "extensions", {}).get("normhub.warm_up")
    if warm_up is not None:
        warm_up()
    if isinstance(worker, Worker):  # a worker gunicorn runs, not a test's stand-in
        keep_startup_out_of_collections()


def keep_startup_out_of_collections():
    """Leave what the worker made before serving out of the garbage collector's passes.

    The app, its modules and what warm-up read (some 200,000 objects) live as long as
    the worker, yet each full collection went through all of them: ~120 ms, every few
    dozen requests of a page that makes many objects (the reading queue, the home page),
    which was those pages' p99. Frozen, they are never scanned; a full pass takes ~2 ms.
    """
    gc.collect()
    gc.freeze()
