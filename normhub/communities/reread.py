"""The re-read period a community (or one of its norms) may ask for: its bounds, checked.

What the period does lives in ``normhub.exposure.ageing``; this is only the
setting, so the community and norm settings check it the same way.
"""

from __future__ import annotations

from normhub.errors import ValidationFailed

REREAD_MONTHS_MAX = 120
REREAD_MESSAGE = (
    f"A re-read period is a whole number of months from 1 to {REREAD_MONTHS_MAX}; "
    "leave it blank to ask for none."
)


def check_reread_months(months: int | None, field: str = "reread_months") -> int | None:
    """``months`` if it is a period one may ask for (None: none asked), else ValidationFailed."""
    if months is not None and not 1 <= months <= REREAD_MONTHS_MAX:
        raise ValidationFailed(REREAD_MESSAGE, field=field)
    return months
