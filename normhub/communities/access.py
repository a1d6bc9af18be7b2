"""The login check of pages under a community's address (``/c/<slug>/…``).

A members-only community does not exist for outsiders (README): each of its
pages is a 404 to whoever may not see it, signed in or not, as the community's
own pages are (``communities.views``). Flask-Login's ``login_required`` would
send an anonymous visitor to the login page first, for a members-only
community as for a public one; :func:`login_required_in_community` looks at
the community first.
"""

from __future__ import annotations

from functools import wraps

from flask_login import login_required

from normhub.auth import current_user_or_none
from normhub.communities.services import get_visible_community
from normhub.db import get_session


def login_required_in_community(view):
    """``login_required`` for a view whose address names its community by ``slug``."""
    needs_login = login_required(view)

    @wraps(view)
    def hidden_first(*args, **kwargs):
        if current_user_or_none() is None:
            # A 404 unless anyone may see the community; signed in, the view asks itself.
            get_visible_community(get_session(), kwargs["slug"], None)
        return needs_login(*args, **kwargs)

    return hidden_first
