"""Every route that changes something refuses a request without the form's CSRF token.

The walk covers every rule of the URL map that takes POST (and the other writing
methods), signed in, as a site admin, so that no view turns the request away for
want of a role before the CSRF check could be seen to run. A new route is walked
the day it is added; a route may skip the check only by being on EXEMPT, with why.
"""

from __future__ import annotations

import re

import pytest

from tests.factories import Factory
from tests.route_helpers import WRITING, every_route, route_url

EXEMPT = {
    # RFC 8058 one-click unsubscribe: mail clients POST here without any page; the
    # signed token in the address is the credential.
    "digest.unsubscribe": "one-click unsubscribe (RFC 8058)",
    "notifications.unsubscribe": "one-click unsubscribe of one kind of notification email",
}

REFUSAL = "Your form expired or was sent from elsewhere"


@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}


def _argument_values(route) -> dict[str, str | int]:
    # The CSRF check runs before the view, so the values need not name anything real.
    return {
        name: 1 if name.endswith("_id") or name == "number" else "x1" for name in route.arguments
    }


def _writing_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, URL) for every writing route, its arguments filled in."""
    return [
        (route.endpoint, route.method, route_url(app, route, _argument_values(route)))
        for route in every_route(app, WRITING)
    ]


def _log_in(client, user) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": user.email, "password": Factory.PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_every_writing_route_refuses_a_request_without_a_token(app, client, factory):
    admin = factory.user("Ada Admin", admin=True)
    _log_in(client, admin)
    routes = _writing_routes(app)
    assert len(routes) >= 30  # the whole app, not a handful
    answered = {}
    for endpoint, method, url in routes:
        if endpoint in EXEMPT:
            continue
        response = client.open(url, method=method, data={"anything": "at all"})
        answered[f"{method} {endpoint}"] = response.status_code
        if response.status_code == 400 and not url.startswith("/api/"):
            assert REFUSAL in response.get_data(as_text=True), url
    assert {route: status for route, status in answered.items() if status != 400} == {}
    # The session survived every refused request: nothing logged the admin out.
    assert client.get("/settings").status_code == 200


def test_the_exempt_list_names_only_routes_that_exist(app):
    endpoints = {endpoint for endpoint, _, _ in _writing_routes(app)}
    assert set(EXEMPT) <= endpoints
