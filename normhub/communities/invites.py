"""Invite links: a steward makes and revokes them; anyone with a usable one joins."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from normhub import events, tokens
from normhub.accounts.models import User
from normhub.communities.models import Community, Invite, Membership
from normhub.communities.services import active_membership, add_member, is_steward
from normhub.db import utcnow
from normhub.errors import Forbidden, NotFound
from normhub.text import has_nul


def create_invite(session: Session, community: Community, steward: User) -> Invite:
    if not is_steward(active_membership(session, community, steward), steward):
        raise Forbidden("Only stewards can create invite links.")
    invite = Invite(
        community_id=community.id, token=tokens.random_token(), created_by_id=steward.id
    )
    session.add(invite)
    session.flush()
    return invite


def revoke_invite(session: Session, invite: Invite, steward: User) -> None:
    community = invite.community
    if not is_steward(active_membership(session, community, steward), steward):
        raise Forbidden("Only stewards can revoke invite links.")
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
    session.flush()


def find_usable_invite(session: Session, token: str) -> Invite:
    invite = None if has_nul(token) else session.scalar(select(Invite).where(Invite.token == token))
    if invite is None or not invite.is_usable:
        raise NotFound("This invite link is not valid. It may have been revoked.")
    return invite


def join_by_invite(session: Session, token: str, user: User) -> Membership:
    invite = find_usable_invite(session, token)
    membership = add_member(session, invite.community, user)
    if membership is None:
        return active_membership(session, invite.community, user)
    # Counted in the database, not read and written back: fifty joins at once count fifty.
    session.execute(update(Invite).where(Invite.id == invite.id).values(uses=Invite.uses + 1))
    session.expire(invite, ["uses"])
    events.publish(session, events.Member.Joined, membership=membership)
    return membership


def list_invites(session: Session, community: Community) -> list[Invite]:
    return list(
        session.scalars(
            select(Invite)
            .where(Invite.community_id == community.id)
            .order_by(Invite.revoked_at.is_not(None), Invite.id.desc())
        )
    )


def get_invite(session: Session, community: Community, invite_id: int) -> Invite:
    invite = session.scalar(
        select(Invite).where(Invite.id == invite_id, Invite.community_id == community.id)
    )
    if invite is None:
        raise NotFound("No such invite link.")
    return invite
