"""An app, once dropped, is freed: nothing global (SQLAlchemy's class-level listener
registry, signals, caches) keeps it and its engines alive."""

from __future__ import annotations

import gc
import weakref

from normhub import create_app
from normhub.db import dispose_engines


def test_a_dropped_app_and_its_engine_are_collected(database_url, instance_path):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url}, instance_path=str(instance_path)
    )
    with app.app_context():
        session = app.extensions["normhub.sessionmaker"]()
        session.commit()  # the commit listeners ran once
        session.close()
    dispose_engines(app)
    app_ref = weakref.ref(app)
    engine_ref = weakref.ref(app.extensions["normhub.engine"])
    del app, session
    gc.collect()
    assert app_ref() is None
    assert engine_ref() is None
