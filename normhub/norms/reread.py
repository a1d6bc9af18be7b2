"""A norm's own re-read period, set by the community's stewards.

None follows the community's period; a number of months (1 to 120) replaces
it, shorter or longer; 0 asks for no re-read of this norm even where the
community asks for one. ``normhub.exposure.ageing`` says what the period does.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from normhub import policy
from normhub.accounts.models import User
from normhub.communities.reread import REREAD_MESSAGE, check_reread_months
from normhub.communities.services import active_membership
from normhub.errors import Forbidden, ValidationFailed
from normhub.norms.models import Norm

FOLLOW, OWN, NONE = "community", "months", "none"


def can_set_reread(session: Session, norm: Norm, user: User | None) -> bool:
    return policy.allows("norm.set-reread", active_membership(session, norm.community, user), user)


def set_reread_months(session: Session, norm: Norm, actor: User, choice: str, months: int | None):
    """Follow the community (``FOLLOW``), ask for ``months`` (``OWN``), or for none (``NONE``)."""
    if not can_set_reread(session, norm, actor):
        raise Forbidden("Only the community's stewards can set how often a norm is read again.")
    if choice == OWN:
        if months is None:
            raise ValidationFailed(REREAD_MESSAGE, field="months")
        norm.reread_months = check_reread_months(months, field="months")
    elif choice in (FOLLOW, NONE):
        norm.reread_months = None if choice == FOLLOW else 0
    else:
        raise ValidationFailed("Choose how often members are asked to read it again.")
    session.flush()
    return norm


def choice_of(norm: Norm) -> str:
    if norm.reread_months is None:
        return FOLLOW
    return OWN if norm.reread_months else NONE
