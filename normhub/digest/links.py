"""The links in a digest: to norms, to the settings page, and to unsubscribe."""

from __future__ import annotations

from normhub.digest.preferences import make_unsubscribe_token


class Links:
    """Absolute URLs for emails, built without a request (CLI runs have none)."""

    def __init__(self, app, base_url: str | None = None):
        self.base = (base_url or app.config["BASE_URL"]).rstrip("/")
        self.secret_key = app.config["SECRET_KEY"]
        self._adapter = app.url_map.bind("localhost")

    def path(self, endpoint: str, **values) -> str:
        return self._adapter.build(endpoint, values)

    def url(self, endpoint: str, **values) -> str:
        return self.base + self.path(endpoint, **values)

    def norm(self, community_slug: str, norm_slug: str) -> str:
        return self.url("norms.show", slug=community_slug, norm_ref=norm_slug)

    def unsubscribe(self, user_id: int, community_ids: list[int]) -> str:
        token = make_unsubscribe_token(self.secret_key, user_id, community_ids)
        return self.url("digest.unsubscribe", token=token)
