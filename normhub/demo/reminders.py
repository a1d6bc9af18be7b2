"""Reminders in the demo, made the way a member makes them: a check first, then the reminder
the check allows. They give the repair café's record its "checked before calling out" rate."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from normhub.accounts.models import User
from normhub.demo.repair_cafe import LOG_V1
from normhub.errors import DomainError
from normhub.exposure.reminders import REMINDER, act_on_check, check_before_reminding
from normhub.norms.models import Norm
from normhub.notifications.kinds import DIGEST
from normhub.notifications.services import set_delivery

# (who reminds, whom, the norm's title, the note): each person had read the norm in force,
# so the check leaves a reminder as the fair step (demo/repair_cafe.py EXPOSURE_TRIES).
REMINDERS = [
    ("felix", "grace", LOG_V1.title, "Could you log the repairs you finish on Wednesdays?"),
    ("felix", "jonas", LOG_V1.title, "The log was empty last week: one line a repair, please."),
    ("jonas", "samuel", LOG_V1.title, "Happy to talk the assumptions through over tea."),
]


def play_reminders(session: Session, people: dict[str, User], refused: list[str]) -> int:
    """Make each demo reminder through the remind flow; how many were made.

    A reminder the flow refuses (the norm did not come into force: a gate said no) is
    noted in ``refused`` and the demo goes on without it.
    """
    made = 0
    for sender, to, title, note in REMINDERS:
        norm = session.scalar(select(Norm).where(Norm.title == title))
        # Loading the demo sends nobody an email: those reminded find it in the app and
        # their digest (a reminder is emailed at once by default).
        set_delivery(session, people[to], "reminder", DIGEST)
        try:
            with session.begin_nested():
                check = check_before_reminding(session, people[sender], norm, people[to])
                act_on_check(session, people[sender], norm, check.id, REMINDER, note)
        except DomainError as refusal:
            refused.append(f"No reminder of “{title}”: {refusal.message}")
            continue
        made += 1
    return made
