"""Builders for test data that go through the real service functions."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from normhub.accounts.services import register_user
from normhub.communities.models import Community, Membership
from normhub.communities.services import create_community, get_membership
from normhub.norms.services import AssumptionInput, NormDraft, change_status, create_norm

_counter = itertools.count(1)


class Factory:
    PASSWORD = "correct horse battery"

    def __init__(self, session: Session):
        self.session = session

    def user(
        self,
        name: str | None = None,
        *,
        admin: bool = False,
        email: str | None = None,
        verified: bool = True,
    ):
        """A user whose address is confirmed, unless ``verified=False``."""
        n = next(_counter)
        name = name or f"User {n}"
        email = email or f"{name.lower().replace(' ', '.')}.{n}@example.org"
        user = register_user(
            self.session, email, name, self.PASSWORD, is_admin=admin, verified=verified
        )
        self.session.commit()
        return user

    def community(self, owner=None, *, visibility="public", join_policy="open", **settings):
        owner = owner or self.user("Owner")
        n = next(_counter)
        community = create_community(
            self.session,
            owner,
            f"Community {n}",
            slug=f"community-{n}",
            visibility=visibility,
            join_policy=join_policy,
        )
        for key, value in settings.items():
            setattr(community, key, value)
        self.session.commit()
        return community

    def member(self, community: Community, user=None, *, role: str = "member", name=None):
        """Add ``user`` (or a new user) to ``community`` with ``role``, whatever its join policy."""
        user = user or self.user(name)
        membership = get_membership(self.session, community, user)
        if membership is None:
            self.session.add(Membership(community_id=community.id, user_id=user.id, role=role))
        else:
            membership.role, membership.left_at = role, None
        self.session.commit()
        return user

    def draft(self, title: str = "Quote statistics with their denominators", **changes):
        fields = {
            "title": title,
            "summary": "When you cite a statistic about a group, give the base it was taken from.",
            "body": "## Why\n\nA number without its base invites cherry-picking.\n\n"
            "## What we ask\n\nName the denominator and the source.",
            "assumptions": [
                AssumptionInput("Most readers cannot check a number's base themselves."),
                AssumptionInput(
                    "Cherry-picked figures do lasting harm to trust.",
                    "Once repeated, a wrong figure outlives its correction.",
                ),
            ],
            "tags": ["statistics", "evidence"],
        }
        fields.update(changes)
        return NormDraft(**fields)

    @staticmethod
    def put_current_version_in_force(norm) -> None:
        """Bind a norm in force by its current version, past the gate (tested on its own)."""
        if norm.status == "in_force":
            norm.in_force_version_number = norm.current_version_number

    def norm(self, community: Community, author=None, *, status: str = "open", **changes):
        author = author or self.member(community)
        norm = create_norm(self.session, community, author, self.draft(**changes))
        if status in ("open", "in_force", "retired"):
            change_status(self.session, norm, author, "open")
        if status in ("in_force", "retired"):
            steward = self.member(community, role="steward")
            norm.status = "in_force"  # the coverage gate is exercised by its own tests
            self.put_current_version_in_force(norm)
            if status == "retired":
                change_status(self.session, norm, steward, "retired")
        self.session.commit()
        return norm
