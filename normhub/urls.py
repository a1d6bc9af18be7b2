"""Absolute URLs, always on the site's configured address (``BASE_URL``).

Never from the request's ``Host`` header: anyone can send any Host, and a
feed, an invite link or an email that copied it would point readers at
another site (and a cache in front of NormHub could keep that answer for
everyone). Emails, the Atom feed and the links people copy all use this.
"""

from __future__ import annotations

from flask import Flask, current_app


class AbsoluteUrls:
    """Absolute URLs for one app, built without a request (CLI runs have none)."""

    def __init__(self, app: Flask, base_url: str | None = None):
        self.base = (base_url or app.config["BASE_URL"]).rstrip("/")
        self._adapter = app.url_map.bind("localhost")

    def path(self, endpoint: str, **values) -> str:
        return self._adapter.build(endpoint, values)

    def url(self, endpoint: str, **values) -> str:
        return self.base + self.path(endpoint, **values)


def absolute_url(endpoint: str, **values) -> str:
    """``endpoint``'s absolute URL on ``BASE_URL`` (for templates and views)."""
    return AbsoluteUrls(current_app).url(endpoint, **values)


def base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def site_path(endpoint: str, **values) -> str:
    """``endpoint``'s path on this site, with or without a request (a job, a CLI run)."""
    return AbsoluteUrls(current_app).path(endpoint, **values)
