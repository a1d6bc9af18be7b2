"""Who may do what: one table of actions, each with the least role it needs.

Roles in a community rank member < steward < admin (a former member has
none). Site admins stand above every community for the actions that say so
(seeing, moderating, managing) but take part (propose, respond, comment)
only where they are members themselves. A few actions also let a norm's
author through. Services answer their ``can_*`` questions with
:func:`allows`; views and the API call those services; templates ask
``may(action, community)``. A new action is one line in :data:`RULES` plus
its test.

Records about two people (an exposure check: who asked, about whom) are not
a community's to share: :data:`PARTY_RULES` says which party to the record
may do what, and :func:`party_allows` answers. Seeing the community the
record is about is asked separately (a former member of a members-only
community learns nothing more of it from a record).
"""

from __future__ import annotations

from dataclasses import dataclass

MEMBER, STEWARD, ADMIN = "member", "steward", "admin"
_RANK = {MEMBER: 0, STEWARD: 1, ADMIN: 2}


@dataclass(frozen=True)
class Rule:
    least: str  # the lowest community role allowed
    site_admins: bool = True  # site admins may, member or not
    author_too: bool = False  # the norm's author may, while a member


RULES: dict[str, Rule] = {
    "community.see-members-only": Rule(MEMBER),
    "community.manage": Rule(STEWARD),  # settings, invite links
    "community.manage-roles": Rule(ADMIN),
    "norm.propose": Rule(MEMBER, site_admins=False),
    "norm.edit": Rule(STEWARD, author_too=True),
    "norm.respond": Rule(MEMBER, site_admins=False),
    "norm.comment": Rule(MEMBER, site_admins=False),
    "comment.moderate": Rule(STEWARD),
    "exposure.nudge": Rule(STEWARD),
    # Ask where someone stands with a norm (the check page, the API); about anyone.
    "exposure.check": Rule(MEMBER),
    # Remind a fellow member of a norm, after checking what they have seen.
    "exposure.remind": Rule(MEMBER, site_admins=False),
    "exposure.see-reminders": Rule(STEWARD),
    # Who has not yet read a norm, and how many of them a digest cannot reach.
    "exposure.see-not-exposed": Rule(STEWARD),
    # Choose what one hears from a community (watching, normal, muted).
    "community.watch": Rule(MEMBER, site_admins=False),
    # Find fellow members by name while writing, to @-mention them.
    "community.suggest-members": Rule(MEMBER),
    # A member's responses and other per-norm activity, on their page.
    "member.see-activity": Rule(MEMBER),
    # Say whether a norm in force worked and its assumptions held, when it is reviewed.
    "review.answer": Rule(MEMBER, site_admins=False),
    # Close a review: kept, revise or retire (retiring itself is a steward's move).
    "review.decide": Rule(STEWARD, author_too=True),
    # Set how long a norm runs before its next review.
    "review.schedule": Rule(STEWARD),
}


def role(membership) -> str | None:
    """The role a membership gives now: None once the member has left."""
    return membership.role if membership is not None and membership.is_active else None


def at_least(least: str, membership, user) -> bool:
    """Whether ``user`` holds ``least`` or a higher role here (site admins always do)."""
    if user is not None and user.is_admin:
        return True
    held = role(membership)
    return held is not None and _RANK[held] >= _RANK[least]


def roles_allowed(action: str) -> tuple[str, ...]:
    """The community roles that may do ``action``: for queries over many communities."""
    least = _RANK[RULES[action].least]
    return tuple(name for name, rank in _RANK.items() if rank >= least)


def allows(action: str, membership, user, *, is_author: bool = False) -> bool:
    """Whether ``user`` (with ``membership`` in the community concerned) may do ``action``."""
    if user is None:
        return False
    rule = RULES[action]
    if rule.site_admins and user.is_admin:
        return True
    held = role(membership)
    if held is None:
        return False
    return _RANK[held] >= _RANK[rule.least] or (rule.author_too and is_author)


CHECKER, SUBJECT = "checker", "subject"


@dataclass(frozen=True)
class PartyRule:
    parties: frozenset[str]  # who on the record may
    site_admins: bool = True


PARTY_RULES: dict[str, PartyRule] = {
    "check.see": PartyRule(frozenset({CHECKER, SUBJECT})),
    "check.reply": PartyRule(frozenset({SUBJECT}), site_admins=False),
}


def party_allows(action: str, user, *, checker_id: int, subject_id: int) -> bool:
    """Whether ``user`` may do ``action`` on a record between a checker and a subject."""
    if user is None:
        return False
    rule = PARTY_RULES[action]
    if rule.site_admins and user.is_admin:
        return True
    held = {CHECKER} if user.id == checker_id else set()
    if user.id == subject_id:
        held.add(SUBJECT)
    return bool(held & rule.parties)
