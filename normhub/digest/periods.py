"""Digest periods: each period's key (one digest per member per key) and length."""

from __future__ import annotations

from datetime import datetime, timedelta

from normhub.digest.models import PERIOD_KINDS
from normhub.errors import ValidationFailed


def period_key(kind: str, when: datetime) -> str:
    """``2026-11-23`` for a daily digest, ``2026-W48`` (ISO week) for a weekly one."""
    if kind == "daily":
        return when.date().isoformat()
    if kind == "weekly":
        year, week, _ = when.isocalendar()
        return f"{year}-W{week:02d}"
    raise ValueError(f"Unknown digest period {kind!r}")


def period_length(kind: str) -> timedelta:
    return timedelta(days=1) if kind == "daily" else timedelta(days=7)


def check_period(kind: str) -> str:
    if kind not in PERIOD_KINDS:
        raise ValidationFailed("The period must be daily or weekly.", field="period")
    return kind
