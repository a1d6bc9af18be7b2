"""Who a period's run must still reach, and which of them get a digest this batch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from normhub.accounts.models import User
from normhub.communities.models import Membership
from normhub.digest.builder import Member
from normhub.digest.claims import holder_is_dead, is_fresh
from normhub.digest.content import Digest
from normhub.digest.delivery import MAX_ATTEMPTS
from normhub.digest.models import ALL_COMMUNITIES, COVERING_STATUSES, FINAL_STATUSES, DigestSend
from normhub.digest.preferences import matching_memberships
from normhub.idlist import in_ids
from normhub.mail import addresses


class DueMembers:
    """The members of one period and scope without a final ledger row, batch by batch."""

    def __init__(
        self,
        session: Session,
        kind: str,
        key: str,
        scope: int,
        now: datetime,
        community_ids: set[int] | None,
    ):
        self.session = session
        self.kind, self.key, self.scope, self.now = kind, key, scope, now
        self.community_ids = community_ids
        # Holders ("host:pid") of "sending" claims whose process is gone.
        self.dead_holders: set[str] = set()

    def subscribed_ids(self, after: int, limit: int):
        """The next ``limit`` member ids above ``after`` with a matching preference.

        Walks the memberships index in user order, so each batch reads only
        its own members (a join from users made PostgreSQL scan them all).
        """
        return (
            matching_memberships(self.kind, self.community_ids)
            .with_only_columns(Membership.user_id)
            .where(Membership.user_id > after)
            .group_by(Membership.user_id)
            .order_by(Membership.user_id)
            .limit(limit)
        )

    def due(self, user_ids=None):
        """Members with a confirmed address, a matching digest preference and no final row
        for this period."""
        this_period = and_(
            DigestSend.user_id == User.id,
            DigestSend.period_kind == self.kind,
            DigestSend.period_key == self.key,
            DigestSend.scope == self.scope,
        )
        # The row of this period is done when final, or failed too often.
        unfinished = or_(
            DigestSend.id.is_(None),
            and_(
                DigestSend.status.not_in(FINAL_STATUSES),
                or_(DigestSend.status != "failed", DigestSend.attempts < MAX_ATTEMPTS),
            ),
        )
        query = (
            select(
                User.id,
                User.email,
                User.display_name,
                DigestSend.status,
                # Judged by the database (its clock, on PostgreSQL), as claims are.
                is_fresh(self.session.get_bind().dialect.name).label("claim_fresh"),
                DigestSend.claimed_by,
                addresses.undeliverable(User.email).label("undeliverable"),
            )
            .outerjoin(DigestSend, this_period)
            # No digest to an address its owner has not confirmed (accounts.verification).
            .where(unfinished, User.email_verified_at.is_not(None))
        )
        if self.scope != ALL_COMMUNITIES:
            query = query.where(~self._full_digest_covers())
        if user_ids is None:
            subscribed = (
                matching_memberships(self.kind, self.community_ids)
                .where(Membership.user_id == User.id)
                .exists()
            )
            return query.where(subscribed)
        return query.where(in_ids(User.id, user_ids)).order_by(User.id)

    def _full_digest_covers(self):
        """The member's full digest of this period covers this community."""
        full = aliased(DigestSend)
        return (
            select(full.id)
            .where(
                full.user_id == User.id,
                full.period_kind == self.kind,
                full.period_key == self.key,
                full.scope == ALL_COMMUNITIES,
                full.status.in_(COVERING_STATUSES),
            )
            .exists()
        )

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(self.due().subquery())) or 0

    def to_build(self, rows) -> tuple[list[Member], dict[int, str | None], int, int]:
        """Of a batch of ``due`` rows: the members to build digests for, the status of
        each one's row (None: no row), and how many are suppressed and busy."""
        members, previous = [], {}
        suppressed = busy = 0
        for row in rows:
            if row.undeliverable:
                suppressed += 1
            elif self._busy_elsewhere(row):
                busy += 1
            else:
                members.append(Member(row.id, row.email, row.display_name))
                previous[row.id] = row.status
        return members, previous, suppressed, busy

    def _busy_elsewhere(self, row) -> bool:
        """Another run is sending this row now: its claim is renewed and its holder alive."""
        if not (row.status == "sending" and row.claim_fresh):
            return False
        if holder_is_dead(row.claimed_by):
            self.dead_holders.add(row.claimed_by)
            return False
        return True


def news_first(
    digests: dict[int, Digest], members: list[Member], budget: int | None
) -> tuple[list[Digest], list[Digest]]:
    """(to send, to skip): in member order, digests with news up to ``budget``."""
    to_send: list[Digest] = []
    to_skip: list[Digest] = []
    for member in members:
        digest = digests[member.id]
        if digest.has_news:
            if budget is not None and len(to_send) >= budget:
                break
            to_send.append(digest)
        else:
            to_skip.append(digest)
    return to_send, to_skip
