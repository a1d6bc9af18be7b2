"""Production settings for gunicorn, which reads this file from the working directory.

``gunicorn wsgi:app`` picks it up; the benchmarks serve both of their apps with it.
Workers: gunicorn's documented starting point, (2 × CPU cores) + 1, because a
request spends part of its time waiting on the database (and, on PostgreSQL,
on the network), so more processes than cores keep the cores busy.
Set WEB_CONCURRENCY to choose another number. Each worker keeps two small
connection pools (sessions, and the autocommit one of the API's exposure
check): budget PostgreSQL's max_connections for both.
"""

import os

# Behind a reverse proxy on the same machine; NORMHUB_BIND=0.0.0.0:8000 to listen on all.
bind = os.environ.get("NORMHUB_BIND", "127.0.0.1:8000")
# The cores this process may run on (a container or taskset may allow fewer than exist).
workers = int(os.environ.get("WEB_CONCURRENCY", len(os.sched_getaffinity(0)) * 2 + 1))
