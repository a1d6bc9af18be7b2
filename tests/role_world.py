"""A small world in which every route of the app has something real to name, and one
person for each role: built through the services, for the role walk
(tests/test_route_roles.py).

Two communities alike but for their visibility: one public, one members-only.
The same people hold the same role in both, so a route's answer may differ
between the two only by what visibility hides.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from normhub.accounts import logins, reset
from normhub.accounts.models import User
from normhub.accounts.verification import confirmation_token
from normhub.api.services import create_token
from normhub.communities.invites import create_invite
from normhub.communities.models import Community, Invite
from normhub.communities.services import get_membership
from normhub.digest.preferences import make_unsubscribe_token
from normhub.discussion.services import post_comment
from normhub.exposure.check import check_exposure, record_page_check
from normhub.exposure.models import ExposureCheck, Reminder
from normhub.norms.models import Norm
from normhub.norms.services import revise_norm
from normhub.notifications.emails import unsubscribe_token as notification_unsubscribe_token
from normhub.notifications.models import Notification
from normhub.notifications.services import Notice, notify
from normhub.reviews.models import NormReview
from normhub.reviews.schedule import open_review
from tests.factories import Factory

PUBLIC, MEMBERS_ONLY = "public", "members-only"
# Whose memberships and rights each person has: the same in both communities.
COMMUNITY_ROLES = {"member": "member", "steward": "steward", "admin": "admin", "author": "member"}
# Words found only in one community: whoever may not see the members-only one never reads them.
NAMES = {
    PUBLIC: {
        "community": "Figures Club",
        "norm": "Say where a figure comes from",
        "comment": "Does this cover charts?",
        "reply": "It covers charts.",
    },
    MEMBERS_ONLY: {
        "community": "Quiet Ledger Circle",
        "norm": "Keep the minutes within the circle",
        "comment": "Do the minutes include votes?",
        "reply": "Votes are minuted by name.",
    },
}


@dataclass
class Place:
    """One community and the things in it that routes name."""

    community: Community
    norm: Norm
    own_comment: object  # the member's comment (the one they may edit)
    other_comment: object  # the author's comment (the one stewards hide and unhide)
    check: ExposureCheck  # the steward checked the member
    reminder: Reminder  # the steward reminded the member
    invite: Invite  # the link anyone holding it may use
    invite_to_revoke: Invite
    review: NormReview  # an open review round of the norm

    def values(self, people: dict[str, User]) -> dict[str, object]:
        """URL parameters naming this place's things, by parameter name."""
        member = people["member"]
        return {
            "slug": self.community.slug,
            "community_slug": self.community.slug,
            "norm_ref": self.norm.slug,
            "number": 1,
            "comment_id": self.own_comment.id,
            "check_id": self.check.id,
            "reminder_id": self.reminder.id,
            "invite_id": self.invite_to_revoke.id,
            "review_id": self.review.id,
            # The invite link's; routes with a token of their own take it from World.tokens.
            "token": self.invite.token,
            "user_id": member.id,
            "member_ref": member.id,
        }


@dataclass
class World:
    people: dict[str, User]
    places: dict[str, Place]
    # URL parameters outside any community: the member's own things.
    own: dict[str, object] = field(default_factory=dict)
    # The signed token in the URL of each route that takes one, by endpoint.
    tokens: dict[str, str] = field(default_factory=dict)

    def membership(self, session, person: str | None, place: str):
        """``person``'s membership row in ``place`` (active or left), or None."""
        if person is None:
            return None
        return get_membership(session, self.places[place].community, self.people[person])


def _norm(session, factory: Factory, community: Community, author: User, title: str) -> Norm:
    """In force, with a second, material version proposed: every norm page has something."""
    norm = factory.norm(community, author, title=title)
    norm.status = "in_force"  # the coverage gate has its own tests
    factory.put_current_version_in_force(norm)
    revise_norm(
        session,
        norm,
        author,
        factory.draft(title=f"{title}, always"),
        is_material=True,
        change_summary="Always.",
    )
    session.commit()
    assert norm.pending_version_number == 2
    return norm


def _reminder(session, norm: Norm, sender: User, to: User) -> Reminder:
    # Recorded as the remind flow records one, after a check of its own.
    check = record_page_check(session, sender, to, norm, check_exposure(session, norm, to))
    reminder = Reminder(
        norm_id=norm.id,
        version_number=norm.current_version_number,
        community_id=norm.community_id,
        from_user_id=sender.id,
        to_user_id=to.id,
        check_id=check.id,
        kind="reminder",
        note="Have a look at the figures rule.",
        checked_found_exposed=True,
    )
    session.add(reminder)
    session.flush()
    return reminder


def _place(session, factory: Factory, people: dict[str, User], kind: str) -> Place:
    admin, steward, member = people["admin"], people["steward"], people["member"]
    community = factory.community(admin, visibility="public" if kind == PUBLIC else "members")
    community.name = NAMES[kind]["community"]
    for person, role in COMMUNITY_ROLES.items():
        if person != "admin":
            factory.member(community, people[person], role=role)
    names = NAMES[kind]
    norm = _norm(session, factory, community, people["author"], names["norm"])
    check = record_page_check(session, steward, member, norm, check_exposure(session, norm, member))
    place = Place(
        community=community,
        norm=norm,
        own_comment=post_comment(session, norm, member, names["comment"]),
        other_comment=post_comment(session, norm, people["author"], names["reply"]),
        check=check,
        reminder=_reminder(session, norm, steward, member),
        invite=create_invite(session, community, steward),
        invite_to_revoke=create_invite(session, community, steward),
        review=open_review(session, norm),
    )
    session.commit()
    return place


def build_world(app, session, factory: Factory) -> World:
    people = {
        "member": factory.user("Max Member"),
        "steward": factory.user("Stella Steward"),
        "admin": factory.user("Ada Admin"),
        "author": factory.user("Otto Author"),
        "outsider": factory.user("Nora Nonmember"),
        "site_admin": factory.user("Sid Siteadmin", admin=True),
    }
    places = {
        PUBLIC: _place(session, factory, people, PUBLIC),
        MEMBERS_ONLY: _place(session, factory, people, MEMBERS_ONLY),
    }
    member = people["member"]
    token, _secret = create_token(session, member, "Laptop")
    other_login, _secret = logins.start(session, member, "Another browser")
    # Something in the member's notifications, whatever else the world made.
    notify(
        session,
        Notice("mention", places[PUBLIC].community.id, "Someone mentioned you", "/"),
        [member.id],
    )
    session.commit()
    notification_id = session.scalar(
        select(Notification.id).where(Notification.user_id == member.id).limit(1)
    )
    community_ids = [place.community.id for place in places.values()]
    world = World(people, places)
    world.own = {
        "handle": member.handle,
        "part": "reminders",  # the list a member's record count opens
        "filename": "style.css",
        "token_id": token.id,
        "login_id": other_login.id,
        "notification_id": notification_id,
    }
    world.tokens = {
        "password_reset.reset_password": reset.make_token(app.secret_key, member),
        "accounts.confirm_email": confirmation_token(member, member.email),
        "accounts.resend_for_expired_link": confirmation_token(member, member.email),
        "digest.unsubscribe": make_unsubscribe_token(app.secret_key, member.id, community_ids),
        "notifications.unsubscribe": notification_unsubscribe_token(member.id, "mention"),
    }
    return world
