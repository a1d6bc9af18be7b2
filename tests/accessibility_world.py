"""A small community with something on every key page, for the accessibility tests.

Seeded through the services: a steward and a member, a norm open for discussion with
assumptions, responses (answers per assumption included), a comment thread with a
reply and an @-mention, a check of the member by the steward (so both the record page
and the member's notifications have something to show), a reminder, an invite link,
the steward's API tokens (one revoked) and a nudge for the digest.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from normhub.accounts.models import User
from normhub.api.services import create_token, revoke_token
from normhub.communities.invites import create_invite
from normhub.communities.models import Community
from normhub.discussion.services import post_comment
from normhub.exposure.check import check_exposure, record_page_check
from normhub.exposure.ledger import record_event
from normhub.exposure.nudges import nudge
from normhub.exposure.reminders import act_on_check, check_before_reminding
from normhub.norms.models import Norm, NormVersion
from normhub.responses.services import AssumptionAnswer, record_response
from tests.factories import Factory


@dataclass
class World:
    community: Community
    steward: User
    member: User
    norm: Norm
    check_id: int

    @property
    def norm_path(self) -> str:
        return f"/c/{self.community.slug}/norms/{self.norm.slug}"


def seed(session: Session, factory: Factory) -> World:
    community = factory.community()
    steward = factory.member(community, role="steward", name="Stella Steward")
    member = factory.member(community, name="Rita Reader")
    others = [factory.member(community, name=f"Voice {n}") for n in range(1, 4)]
    norm = factory.norm(community, steward, title="Quote figures with their base")
    in_force = factory.norm(
        community, others[0], status="in_force", title="Say where a claim comes from"
    )

    record_event(session, member, norm, norm.current_version_number, "read")
    assumptions = session.get(NormVersion, norm.current_version_id).assumptions
    answers = {a.id: AssumptionAnswer("yes", "agree") for a in assumptions}
    answers[assumptions[0].id] = AssumptionAnswer("partly", "disagree", "Some readers can.")
    record_response(session, norm, member, "yes", "endorse", "It keeps us honest.", answers)
    for voice, answer in zip(others, ("yes", "partly", "no"), strict=True):
        record_response(session, norm, voice, answer, "endorse" if answer == "yes" else "reject")

    opening = post_comment(session, norm, member, "Does this apply to quoted tweets too?")
    reply = f"Yes, @{member.handle}, the base still matters."
    post_comment(session, norm, steward, reply, opening)
    post_comment(
        session, norm, others[1], "The first assumption is too strong.", None, assumptions[0].key
    )
    report = check_exposure(session, norm, member)
    check = record_page_check(session, steward, member, norm, report, note="Asked at the meeting.")
    record_event(session, member, in_force, in_force.current_version_number, "read")
    before_reminding = check_before_reminding(session, steward, in_force, member)
    act_on_check(session, steward, in_force, before_reminding.id, "reminder", "Mind the source.")
    create_invite(session, community, steward)
    create_token(session, steward, "Coverage dashboard")
    old_token, _secret = create_token(session, steward, "Old laptop script", days=30)
    revoke_token(session, steward, old_token.id)
    nudge(session, steward, session.get(Norm, norm.id))
    session.commit()
    return World(community, steward, member, norm, check.id)
