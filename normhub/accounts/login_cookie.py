"""How a browser stays logged in: a server-side login's secret in the session cookie.

Flask-Login keeps the user's id in Flask's signed session cookie. Beside it
the cookie carries the secret of a :class:`LoginSession` row
(``accounts.logins``), and the user loader refuses the cookie once that row
is gone or past its lifetimes. So logging out, changing the password or
"log out everywhere" end a login on the server: a copy of the cookie taken
before then logs in no one.

* ``login_user(user)``, wherever it is called, starts a login
  (:func:`start_login` runs on Flask-Login's ``user_logged_in`` signal). The
  cookie's earlier contents, its CSRF secret included, are dropped, so nothing
  obtained before the login works after it. It commits: call it once your
  own change has committed.
* ``logout_user()`` ends the login (:func:`end_login`, on ``user_logged_out``)
  and empties the cookie.
* :func:`load_user` is the user loader; :func:`load_early` makes it run before
  the view on every request that carries a login, so each is checked.
* There are no remember-me cookies: NormHub never sets one, and one would log
  in no one, as it carries no login secret.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app, g, request, session
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from normhub.accounts import logins
from normhub.accounts.models import LoginSession, User
from normhub.db import begin_write, get_session, set_write_intent, utcnow, write_intent

logger = logging.getLogger("normhub.accounts")

LOGIN_KEY = "login"
# Flask-Login's own keys: they survive the clean sweep at login.
_FLASK_LOGIN_KEYS = ("_user_id", "_fresh", "_id")


def lifetimes() -> logins.Lifetimes:
    return logins.Lifetimes.from_config(current_app.config)


def current_login() -> LoginSession | None:
    """The login this request was made under (None for anonymous and API-token requests)."""
    return g.get("login_session")


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the cookie's user, while its login lasts."""
    secret = session.get(LOGIN_KEY)
    if not isinstance(secret, str) or not user_id.isdigit():
        _forget_login()
        return None
    db = get_session()
    # Refreshing last_seen_at commits on its own: only before the request has begun anything.
    untouched = not db.in_transaction() and not (db.new or db.dirty or db.deleted)
    login, user = logins.find(db, secret) or (None, None)
    now = utcnow()
    if user is None or user.id != int(user_id) or not logins.is_current(login, lifetimes(), now):
        _forget_login()
        return None
    if untouched and logins.needs_touch(login, now):
        _record_use(db, login, now)
    g.login_session = login
    return user


def _record_use(db: Session, login: LoginSession, now: datetime) -> None:
    """Refresh last_seen_at in a short transaction of its own (every few minutes at most)."""
    intent = write_intent()
    try:
        db.commit()  # ends the lookup's read; nothing was written
        set_write_intent(True)  # on SQLite a write must begin IMMEDIATE
        logins.touch(db, login, now)
        db.commit()
    except SQLAlchemyError:
        # The login still stands; the next request tries again.
        db.rollback()
        logger.warning("Could not record the use of login %s", login.id, exc_info=True)
    finally:
        set_write_intent(intent)


def _forget_login() -> None:
    # The whole cookie goes, its CSRF secret with it: the form tokens of an
    # ended login are refused too.
    session.clear()
    g.pop("csrf_token", None)
    g.pop("login_session", None)


def start_login(_app, user: User, **_extra) -> None:
    """On ``login_user``: a new server-side login, and a cookie holding only it."""
    db = get_session()
    begin_write(db)  # a login may follow a GET's reads (SQLite cannot upgrade them)
    previous = session.get(LOGIN_KEY)
    if isinstance(previous, str):
        logins.end(db, previous)
    # Logins past their lifetimes already log no one in; a login is rare enough
    # to clear them out as it goes.
    logins.end_expired(db, lifetimes())
    login, secret = logins.start(db, user, request.user_agent.string)
    db.commit()
    kept = {key: session[key] for key in _FLASK_LOGIN_KEYS if key in session}
    _forget_login()
    session.update(kept)
    session[LOGIN_KEY] = secret
    # The cookie outlives the browser window, up to the absolute lifetime
    # (PERMANENT_SESSION_LIFETIME); the server decides when the login ends.
    session.permanent = True
    g.login_session = login


def end_login(_app, user: User | None = None, **_extra) -> None:
    """On ``logout_user``: this browser's login ends on the server, and its cookie empties."""
    secret = session.get(LOGIN_KEY)
    if isinstance(secret, str):
        db = get_session()
        begin_write(db)
        logins.end(db, secret)
        db.commit()
    _forget_login()


def load_early() -> None:
    """Check the login before the view runs, on every request that carries one.

    So every request is checked (not only those whose page asks who is
    there), and last_seen_at is refreshed before the view's own transaction
    begins. Requests with an Authorization header are left to the API's
    token check, static files to themselves.
    """
    if request.endpoint == "static" or "Authorization" in request.headers:
        return
    if LOGIN_KEY in session or "_user_id" in session:
        current_user._get_current_object()


def forget_request_login(_exc=None) -> None:
    g.pop("login_session", None)
