"""Notification settings and unread notices for a batch of members, one query each.

The digest builds its emails for hundreds of members at a time with a fixed
number of queries per batch; these are its reads of this feature. What a
member chose is kept as rows only where it differs from the default (see
``models``), so a member with no rows has every kind's default and watches
nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property

from sqlalchemy import Integer, bindparam, cast, literal, null, select, union_all
from sqlalchemy.orm import Session

from normhub.idlist import id_list, in_ids
from normhub.notifications.kinds import EMAIL, KINDS, NORMAL, OFF
from normhub.notifications.models import CommunityWatch, Notification, NotificationSetting

# Marks the watch rows in the one query that reads both tables.
_WATCH_ROW = "watch-level"


@dataclass
class MemberSettings:
    """One member's delivery per kind (their choice, else the default) and watch levels."""

    chosen: dict[str, str] = field(default_factory=dict)
    watch_levels: dict[int, str] = field(default_factory=dict)
    # ``for_digest`` answers by (kind, watch level, notified): asked for every item
    # of every digest, and the same few answers for most members.
    _for_digest: dict[tuple[str, str, bool], bool] = field(
        default_factory=dict, repr=False, compare=False
    )

    def delivery(self, kind: str) -> str:
        return self.chosen.get(kind, KINDS[kind].default)

    def watch_level(self, community_id: int) -> str:
        return self.watch_levels.get(community_id, NORMAL)

    def emailed_at_once(self, kind: str, community_id: int, *, notified: bool = True) -> bool:
        """Whether, as the member's settings stand, a ``kind`` notice in the community
        went to them by email when it was made. ``notified`` False: no notice was made
        at all (a check made in a community the member is not in)."""
        return (
            notified
            and self.delivery(kind) == EMAIL
            and KINDS[kind].reaches(self.watch_level(community_id))
        )

    def for_digest(self, kind: str, community_id: int, *, notified: bool = True) -> bool:
        """Whether the member's digest tells of a ``kind`` thing in the community: not
        turned off, and not emailed at once already (``notified`` as above)."""
        key = (kind, self.watch_level(community_id), notified)
        told = self._for_digest.get(key)
        if told is None:
            turned_off = self.delivery(kind) == OFF
            sent = self.emailed_at_once(kind, community_id, notified=notified)
            told = self._for_digest[key] = not (turned_off or sent)
        return told

    @cached_property
    def emails_any_kind(self) -> bool:
        """Whether some kind reaches the member by email at once."""
        return any(self.delivery(kind) == EMAIL for kind in KINDS)


# The settings of every member who chose nothing: shared, so its answers are too.
DEFAULTS = MemberSettings()


def settings_of_members(session: Session, user_ids: Iterable[int]) -> dict[int, MemberSettings]:
    """The settings of the members who chose something (ask with ``.get(id, DEFAULTS)``).
    One query: the settings and the watch levels, read together with UNION ALL."""
    wanted = sorted(set(user_ids))
    settings: dict[int, MemberSettings] = defaultdict(MemberSettings)
    if not wanted:
        return {}
    chosen = select(
        NotificationSetting.user_id,
        NotificationSetting.kind.label("name"),
        NotificationSetting.delivery.label("value"),
        cast(null(), Integer).label("community_id"),
    ).where(in_ids(NotificationSetting.user_id, wanted))
    watches = select(
        CommunityWatch.user_id,
        literal(_WATCH_ROW).label("name"),
        CommunityWatch.level.label("value"),
        CommunityWatch.community_id,
    ).where(in_ids(CommunityWatch.user_id, wanted))
    for row in session.execute(union_all(chosen, watches)):
        member = settings[row.user_id]
        if row.name == _WATCH_ROW:
            member.watch_levels[row.community_id] = row.value
        elif row.name in KINDS:
            member.chosen[row.name] = row.value
    return dict(settings)


def unread_notices(
    session: Session,
    user_ids: Iterable[int],
    kinds: Iterable[str],
    community_ids: Iterable[int],
    since: datetime,
    until: datetime,
) -> list:
    """Unread notices of ``kinds`` for ``user_ids`` in ``community_ids``, last brought up
    to date in [since, until) and never emailed, oldest first. One query.

    Rows: ``id``, ``user_id``, ``kind``, ``community_id``, ``norm_id``, ``summary``,
    ``target`` (a path on this site), ``updated_at``.
    """
    parameters = {
        "user_ids": list(user_ids),
        "kinds": sorted(set(kinds)),
        "community_ids": sorted(set(community_ids)),
        "since": since,
        "until": until,
    }
    return session.execute(_unread_notices_statement(), parameters).all()


@cache
def _unread_notices_statement():
    # Built once, with bound parameters: building it cost more CPU than running it, on
    # every digest preview.
    return (
        select(
            Notification.id,
            Notification.user_id,
            Notification.kind,
            Notification.community_id,
            Notification.norm_id,
            Notification.summary,
            Notification.target,
            Notification.updated_at,
        )
        .where(
            in_ids(Notification.user_id, id_list("user_ids")),
            Notification.kind.in_(bindparam("kinds", expanding=True)),
            Notification.community_id.in_(bindparam("community_ids", expanding=True)),
            Notification.read_at.is_(None),
            Notification.emailed_at.is_(None),
            Notification.updated_at >= bindparam("since"),
            Notification.updated_at < bindparam("until"),
        )
        .order_by(Notification.updated_at, Notification.id)
    )
