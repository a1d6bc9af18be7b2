"""Every route of the app, read from its URL map: the one enumeration that the CSRF,
security-header and role walks share, so a route added tomorrow is walked by all three."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask import url_for
from werkzeug.routing import Rule

WRITING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Werkzeug adds these to every rule; they answer as the GET (or refuse) by themselves.
IMPLIED = frozenset({"HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    rule: Rule

    @property
    def arguments(self) -> frozenset[str]:
        return frozenset(self.rule.arguments)

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint}"


def every_route(app, methods: Iterable[str] | None = None) -> list[Route]:
    """One Route per (rule, method) of the URL map, but HEAD and OPTIONS; only ``methods``
    when given. In the URL map's own order, rule by rule."""
    wanted = None if methods is None else frozenset(methods)
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - IMPLIED):
            if wanted is None or method in wanted:
                routes.append(Route(rule.endpoint, method, rule))
    return routes


def route_url(app, route: Route, values: Mapping, query: Mapping | None = None) -> str:
    """The route's URL with its parameters taken from ``values`` (and a query string)."""
    missing = route.arguments - values.keys()
    assert not missing, f"{route.rule.rule}: give a value for {sorted(missing)}"
    arguments = {name: values[name] for name in route.arguments}
    with app.test_request_context():
        return url_for(route.endpoint, **arguments, **(query or {}))
