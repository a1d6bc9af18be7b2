"""Telling people they were checked, a minute after, from the check records themselves.

The exposure check API answers in a couple of milliseconds; making a notice
and an email in that request took ten. So the request only records the check
(as it always did), and this periodic job reads the records written since its
last run and tells each person checked: one notice each (an email too, if
they asked for checks at once). Two workers running it at once take turns on
the progress row, so no one is told twice.
"""

from __future__ import annotations

from huey import crontab
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from normhub.db import begin_write
from normhub.exposure.models import ExposureCheck
from normhub.jobs.queue import periodic_job
from normhub.norms.models import Norm
from normhub.notifications.models import NotificationProgress
from normhub.notifications.services import Notice, norm_label, notify
from normhub.urls import site_path

SOURCE = "checks"
BATCH = 500


@periodic_job("notifications.checks", crontab(minute="*"))
def tell_the_people_checked(session: Session) -> int:
    """Notices for the checks recorded since the last run; how many checks were read."""
    begin_write(session)  # SQLite: take the write lock first, so two runs take turns
    progress = session.get(NotificationProgress, SOURCE, with_for_update=True)
    if progress is None:
        progress = NotificationProgress(source=SOURCE, last_id=0)
        session.add(progress)
    checks = session.scalars(
        select(ExposureCheck)
        .where(ExposureCheck.id > progress.last_id)
        .options(
            joinedload(ExposureCheck.norm).joinedload(Norm.community),
            joinedload(ExposureCheck.checker),
        )
        .order_by(ExposureCheck.id)
        .limit(BATCH)
    ).all()
    for check in checks:
        if check.checker_id != check.subject_id:
            _tell(session, check)
        progress.last_id = check.id
    session.flush()
    return len(checks)


def _tell(session: Session, check: ExposureCheck) -> None:
    norm = check.norm
    notice = Notice(
        "check",
        norm.community_id,
        f"{check.checker.display_name} checked what you have seen of {norm_label(norm)}",
        site_path("exposure.check_record", check_id=check.id),
        norm_id=norm.id,
        actor_id=check.checker_id,
    )
    notify(session, notice, [check.subject_id])
