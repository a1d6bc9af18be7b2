"""Which pages a write touches, and what a page was built from: both as tags.

A page depends on the tags of every norm, community and member it loaded
(collected from the ORM while it renders) and on the lists its endpoint
shows (:data:`PAGE_LISTS`). A committed write bumps the tags of what it
changed (:func:`tags_written`): a comment bumps its norm, which is on that
norm's pages and on the community list pages that show the norm; a new norm
bumps its community's list. Tags:

* ``norm:<id>``: the norm, its versions, tags, status, comments, responses,
  prerequisites, review rounds and date, and its coverage counts (exposure summaries);
* ``community:<id>``: the community's row and memberships (names, visibility,
  settings, member counts, stewards);
* ``user:<id>``: a member's name, handle, profile, deletion, and the record on their page
  (their norms' statuses and reviews);
* ``listed:<community id>``: which norms a community's list holds, in which order;
  ``counts:<community id>``: how many it has of each status;
* ``norms``: any norm activity anywhere (the visitor's home shows the most
  recently active norm); ``communities``: the list of communities and their counts.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from normhub import events
from normhub.accounts.models import User
from normhub.communities.models import Community, Membership
from normhub.db import written
from normhub.discussion.models import Comment
from normhub.exposure.models import ExposureSummary
from normhub.norms.models import (
    Assumption,
    Norm,
    NormPrerequisite,
    NormTag,
    NormVersion,
    StatusChange,
    norm_id_of,
)
from normhub.responses.models import Response
from normhub.reviews.models import CommunityReviewSetting, NormReview, NormReviewSchedule

NORMS = "norms"
COMMUNITIES = "communities"

# What a user row shows on a page; a new password or address changes no page.
USER_SHOWN = ("display_name", "handle", "bio", "deleted_at")
# What of a norm row changes which lists hold it, or the communities' counts.
NORM_COUNTED = ("status", "community_id")
# What of an exposure summary the coverage counts read; last_seen_at changes on every visit.
COVERAGE_READS = ("level", "level_version", "material_base")
# Rows that are part of what a norm's pages show (its coverage aside, below).
NORM_PARTS = (
    NormVersion,
    Assumption,
    NormTag,
    NormPrerequisite,
    StatusChange,
    Comment,
    Response,
    # The review panel: the next date, the open round, the last outcome (its per-assumption
    # results are written with the round's decision, which bumps the norm already).
    NormReview,
    NormReviewSchedule,
)


def norm_tag(norm_id: int) -> str:
    return f"norm:{norm_id}"


def community_tag(community_id: int) -> str:
    return f"community:{community_id}"


def user_tag(user_id: int) -> str:
    return f"user:{user_id}"


def listed_tag(community_id: int) -> str:
    return f"listed:{community_id}"


def counts_tag(community_id: int) -> str:
    return f"counts:{community_id}"


# --- what a page was built from ---------------------------------------------------------

_reading: ContextVar[set[str] | None] = ContextVar("pagecache_reading", default=None)


def start_reading() -> object:
    """Collect the tags of what this request loads, until :func:`stop_reading`."""
    return _reading.set(set())


def stop_reading(token) -> set[str]:
    tags = _reading.get() or set()
    _reading.reset(token)
    return tags


def _loaded(_session: Session, instance) -> None:
    tags = _reading.get()
    if tags is None:
        return
    if isinstance(instance, Norm):
        # A norm is shown only while its community may be seen: a page showing it
        # goes when that community's visibility (or name) changes.
        tags.update((norm_tag(instance.id), community_tag(instance.community_id)))
    elif isinstance(instance, Community):
        tags.add(community_tag(instance.id))
    elif isinstance(instance, User):
        tags.add(user_tag(instance.id))


def _community_ids(tags: set[str]) -> list[int]:
    return [int(tag.split(":", 1)[1]) for tag in tags if tag.startswith("community:")]


def _community_lists(tags: set[str]) -> set[str]:
    return {listed_tag(community_id) for community_id in _community_ids(tags)}


def _community_counts(tags: set[str]) -> set[str]:
    return {counts_tag(community_id) for community_id in _community_ids(tags)}


# Endpoint -> the lists it shows beyond the objects it loads. Only these pages are kept.
PAGE_LISTS: dict[str, Callable[[set[str]], set[str]]] = {
    "home.index": lambda _tags: {NORMS, COMMUNITIES},
    "forum.index": lambda _tags: {COMMUNITIES},
    "forum.community": _community_lists,
    "forum.about": _community_counts,
    # The path holds the community's norms in force: which those are is its list.
    "newcomers.start": _community_lists,
    # Communities turning public or members-only change which of their norms it lists.
    "forum.member": lambda _tags: {COMMUNITIES},
    "glossary.page": lambda _tags: set(),
    "norms.show": lambda _tags: set(),
    "norms.versions": lambda _tags: set(),
    "norms.version": lambda _tags: set(),
    "norms.diff": lambda _tags: set(),
}


def page_tags(endpoint: str, loaded: set[str]) -> set[str]:
    return loaded | PAGE_LISTS[endpoint](loaded)


# --- what a write touches ------------------------------------------------------------


def _norm_written(obj: Norm) -> set[str]:
    tags = {norm_tag(obj.id), listed_tag(obj.community_id), NORMS}
    if written(obj, NORM_COUNTED):
        # A norm more or less in a community's counts, and on its author's page.
        tags |= {counts_tag(obj.community_id), COMMUNITIES, user_tag(obj.author_id)}
    return tags


def _tags_of_norm_part(session: Session, obj) -> set[str]:
    norm_id = norm_id_of(session, obj)
    if norm_id is None:
        return set()
    if not isinstance(obj, NormTag):
        return {norm_tag(norm_id)}
    # A tag puts the norm on (or takes it off) the community's tag-filtered lists.
    norm = session.get(Norm, norm_id)
    return {norm_tag(norm_id)} | ({listed_tag(norm.community_id)} if norm is not None else set())


def _review_written(session: Session, obj: NormReview) -> set[str]:
    # A round opened or decided is on its norm's pages (a part of the norm) and on its
    # author's page, whose record counts the norms a review kept.
    norm = session.get(Norm, obj.norm_id)
    author = {user_tag(norm.author_id)} if norm is not None else set()
    return _tags_of_norm_part(session, obj) | author


def tags_written(session: Session, obj) -> set[str]:
    """The tags of the pages that ``obj`` (new, changed or deleted) may change."""
    if isinstance(obj, Norm):
        return _norm_written(obj)
    if isinstance(obj, NormReview):
        return _review_written(session, obj)
    if isinstance(obj, NORM_PARTS):
        return _tags_of_norm_part(session, obj)
    if isinstance(obj, ExposureSummary):
        return {norm_tag(obj.norm_id)} if written(obj, COVERAGE_READS) else set()
    if isinstance(obj, Community):
        return {community_tag(obj.id), COMMUNITIES}
    if isinstance(obj, CommunityReviewSetting):  # the period its norms' pages state
        return {community_tag(obj.community_id)}
    if isinstance(obj, Membership):
        return {community_tag(obj.community_id), user_tag(obj.user_id), COMMUNITIES}
    if isinstance(obj, User):
        return {user_tag(obj.id)} if written(obj, USER_SHOWN) else set()
    return set()


def follow_writes(sessionmaker, bump: Callable[[set[str]], None]) -> None:
    """Bump the tags each committed transaction of these sessions touched, after commit.

    Gathered across the transaction's flushes (``after_flush``) and bumped by
    after-commit work (``normhub.events``); a rolled-back transaction bumps nothing.
    """

    def bump_touched(touched: set[str]) -> None:
        if touched:
            bump(touched)

    def note(session: Session, touched: set[str], obj) -> None:
        touched.update(tags_written(session, obj))

    events.gather_until_commit(sessionmaker, "normhub.pagecache.touched", set, note, bump_touched)
    event.listen(sessionmaker, "loaded_as_persistent", _loaded)
