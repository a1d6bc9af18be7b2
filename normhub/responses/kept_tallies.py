"""A norm's response tallies, kept between requests until someone answers it.

Tallying reads every member's latest answer to the norm and to each of its
assumptions (thousands of rows on a busy norm) on every view of its page, while
the tallies change only when someone answers. So each process keeps the counts
(``normhub.kept``) under the norm's tag ``tallies:<id>``, which a new answer bumps.
Which answers count depends on the norm's latest material version: the counts are
kept per norm and oldest counted version, so a material revision starts afresh.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from normhub.kept import Bump, KeptValues, Versions
from normhub.norms.models import Norm
from normhub.responses.models import AssumptionResponse, Response

EXTENSION = "normhub.responses.kept_tallies"
# Norms whose tallies each process keeps, least recently viewed out first.
KEPT_NORMS = 1024


def tallies_tag(norm_id: int) -> str:
    return f"tallies:{norm_id}"


def tallies_written(session: Session, obj) -> set[str]:
    """The tags of the tallies ``obj`` (new, changed or deleted) may change."""
    if isinstance(obj, Response):
        return {tallies_tag(obj.norm_id)}
    if isinstance(obj, AssumptionResponse):
        # Written with its response (which counts), unless added to one already stored.
        response = session.get(Response, obj.response_id) if obj.response_id else None
        return {tallies_tag(response.norm_id)} if response is not None else set()
    if isinstance(obj, Norm) and obj in session.deleted:
        # Its answers go by the database's cascade, unseen here; and SQLite may give its
        # id to the next norm, which must not be served them.
        return {tallies_tag(obj.id)}
    return set()


def _tag_of_key(key: tuple[int, int]) -> str:
    return tallies_tag(key[0])  # (norm id, oldest counted version)


class TallyCache(KeptValues):
    """Counted answers by (norm id, oldest counted version), under the norm's tag."""

    def __init__(self, versions: Versions, bump: Bump, epoch_tag: str, kept: int = KEPT_NORMS):
        super().__init__("tallies", _tag_of_key, tallies_written, versions, bump, epoch_tag, kept)
