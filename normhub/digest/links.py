"""The links in a digest: to norms, to the settings page, and to unsubscribe."""

from __future__ import annotations

from normhub.digest.preferences import make_unsubscribe_token
from normhub.urls import AbsoluteUrls


class Links(AbsoluteUrls):
    """Absolute URLs for emails, on ``BASE_URL``, built without a request."""

    def __init__(self, app, base_url: str | None = None):
        super().__init__(app, base_url)
        self.secret_key = app.config["SECRET_KEY"]
        self._norms: dict[tuple[str, str], str] = {}

    def norm(self, community_slug: str, norm_slug: str) -> str:
        # Built once a run per norm: a run of 100,000 digests asked for the same few
        # hundred addresses a hundred thousand times, each routed and quoted again.
        key = (community_slug, norm_slug)
        found = self._norms.get(key)
        if found is None:
            found = self._norms[key] = self.url(
                "norms.show", slug=community_slug, norm_ref=norm_slug
            )
        return found

    def comment(self, community_slug: str, comment_id: int) -> str:
        return self.url("discussion.comment", slug=community_slug, comment_id=comment_id)

    def unsubscribe(self, user_id: int, community_ids: list[int]) -> str:
        token = make_unsubscribe_token(self.secret_key, user_id, community_ids)
        return self.url("digest.unsubscribe", token=token)
