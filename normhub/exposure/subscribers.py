"""How the exposure ledger follows other features' changes (see ``normhub.events``).

All of these run inside the producer's transaction: a response without its
ledger entry, or a status change past an unmet gate, must not commit.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from normhub import events
from normhub.accounts.models import User
from normhub.communities.services import active_membership
from normhub.db import begin_write, utcnow
from normhub.exposure.gate import check_attention_budget, in_force_gate
from normhub.exposure.ledger import OPENED_DEBOUNCE, record_event
from normhub.exposure.levels import OPENED
from normhub.exposure.models import ExposureSummary


def record_response(session: Session, *, response, norm, version, user) -> None:
    record_event(session, user, norm, version, "responded", response=response)


def record_proposed(session: Session, *, norm, author) -> None:
    """Writing a norm is its author's exposure to the first version, at the endorsed level."""
    record_event(session, author, norm, norm.current_version_number, "authored")


def record_revised(session: Session, *, norm, version, material) -> None:
    """Each revision is its editor's exposure to the new version, at the endorsed level."""
    editor = session.get(User, version.editor_id)
    record_event(session, editor, norm, version, "authored", at=version.created_at)


def record_opened(session: Session, *, norm, viewer) -> None:
    """A member with the norm page open has "opened" its current version."""
    if active_membership(session, norm.community, viewer) is None:
        return
    number = norm.current_version_number
    summary = session.get(ExposureSummary, (viewer.id, norm.id))
    if (
        summary is not None
        and summary.latest_version == number
        and summary.level >= OPENED
        and utcnow() - summary.last_seen_at < OPENED_DEBOUNCE
    ):
        return  # a reload: nothing new to record, and no write transaction on GET
    begin_write(session)  # a GET's read transaction cannot turn into a write on SQLite
    record_event(session, viewer, norm, number, "opened")


def guard_status_change(session: Session, *, norm, new_status, actor) -> None:
    """Opening needs room in the attention budget; coming into force needs the gate met."""
    if new_status == "open":
        check_attention_budget(session, norm)
    elif new_status == "in_force":
        in_force_gate(session, norm)


def connect() -> None:
    events.Response.Recorded.in_transaction.connect(record_response)
    events.Norm.Opened.in_transaction.connect(record_opened)
    events.Norm.Proposed.in_transaction.connect(record_proposed)
    events.Norm.Revised.in_transaction.connect(record_revised)
    events.Norm.StatusChanging.in_transaction.connect(guard_status_change)
