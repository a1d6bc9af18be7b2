"""Production settings for gunicorn, which reads this file from the working directory.

``gunicorn wsgi:app`` picks it up; the benchmarks serve both of their apps with it.
Workers: gunicorn's documented starting point, (2 × CPU cores) + 1, because a
request spends part of its time waiting on the database (and, on PostgreSQL,
on the network), so more processes than cores keep the cores busy.
Set WEB_CONCURRENCY to choose another number.
"""

import multiprocessing
import os

bind = os.environ.get("NORMHUB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
