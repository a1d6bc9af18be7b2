"""Exposure that ages: the re-read period, and when a reading is too old for it.

A community may ask its members to read each norm again every so many months
(``communities.reread_months``; None asks for none). A norm may ask for its
own period instead (``norms.reread_months``): None follows the community, a
number of months replaces the community's (shorter or longer), and 0 asks for
no re-read of that norm at all.

A reading's time is the summary's ``level_at`` on the current material text:
when the member reached their level on it (read, responded, wrote; a new
response always renews it), or read it again once that had aged: a "read" of
the current text then is recorded as a "reread" event, which keeps the level
and renews the time (``normhub.exposure.ledger``). A reading is *stale by age* at an instant when
at least the period's number of whole months has passed since it. Months are
counted on the calendar: from the 15th of March at noon, one month has passed
at noon on the 15th of April. Python and SQL count them the same way here, so
one definition answers for one person and for lists.

``normhub.exposure.standing`` says what staleness means for each surface.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, extract, false, func, literal, select
from sqlalchemy.orm import aliased

from normhub.communities.models import Community
from normhub.norms.models import Norm


def reread_period(norm_months: int | None, community_months: int | None) -> int | None:
    """The months between readings a norm asks for (None: no re-read asked)."""
    months = norm_months if norm_months is not None else community_months
    return months or None


def period_of(norm) -> int | None:
    """``reread_period`` of a Norm whose community is loaded."""
    return reread_period(norm.reread_months, norm.community.reread_months)


def _seconds_into_month(instant: datetime) -> int:
    return instant.day * 86400 + instant.hour * 3600 + instant.minute * 60 + instant.second


def months_between(earlier: datetime, later: datetime) -> int:
    """Whole calendar months from ``earlier`` to ``later`` (0 when later is not later)."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    if _seconds_into_month(later) < _seconds_into_month(earlier):
        months -= 1
    return max(months, 0)


def is_stale_by_age(read_at: datetime | None, period: int | None, instant: datetime) -> bool:
    return bool(period) and read_at is not None and months_between(read_at, instant) >= period


# -- The same, as SQL ---------------------------------------------------------------


def months_since_sql(column, instant: datetime):
    """SQL: whole calendar months from the datetime ``column`` to the instant ``instant``."""
    column_seconds = (
        extract("day", column) * 86400
        + extract("hour", column) * 3600
        + extract("minute", column) * 60
        + extract("second", column)
    )
    return (
        literal(instant.year * 12 + instant.month)
        - (extract("year", column) * 12 + extract("month", column))
        - case((column_seconds > _seconds_into_month(instant), 1), else_=0)
    )


def period_sql(norm_months, community_months):
    """SQL: the period in months from the two columns; NULL or 0 when none is asked."""
    return func.coalesce(norm_months, community_months)


def stale_by_age_sql(read_at, period, instant: datetime):
    """SQL: ``read_at`` is at least ``period`` months before ``instant``.

    ``period`` is an SQL expression (``period_sql``) or a number; None means
    no period, and the condition is false.
    """
    if isinstance(period, int) or period is None:
        if not period:
            return false()
        return and_(read_at.is_not(None), months_since_sql(read_at, instant) >= period)
    return and_(read_at.is_not(None), period > 0, months_since_sql(read_at, instant) >= period)


_PERIOD_NORM = aliased(Norm, name="period_norm")
_PERIOD_COMMUNITY = aliased(Community, name="period_community")


def period_columns(norm_id):
    """Scalar subqueries: the norm's own period and its community's, for one norm by id."""
    by_norm = select(_PERIOD_NORM.reread_months).where(_PERIOD_NORM.id == norm_id)
    by_community = (
        select(_PERIOD_COMMUNITY.reread_months)
        .join(_PERIOD_NORM, _PERIOD_NORM.community_id == _PERIOD_COMMUNITY.id)
        .where(_PERIOD_NORM.id == norm_id)
    )
    return (
        by_norm.scalar_subquery().label("norm_reread_months"),
        by_community.scalar_subquery().label("community_reread_months"),
    )
