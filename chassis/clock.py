"""The time of day and the calendar in India, for every decision that depends on them.

Decisions take ``now`` as an argument (pure functions); only the edges read the wall clock, through
``utcnow``, so a test sets the moment it is about: 23:59:59 IST, midnight, 31 March, 1 April.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from contracts._base import utcnow

__all__ = ["IST", "india_date", "utcnow"]

IST = timezone(timedelta(hours=5, minutes=30), "IST")
"""India Standard Time: one offset all year (India has no daylight saving)."""


def india_date(at: datetime) -> date:
    """The calendar day in India at a moment (an aware datetime); 18:30 UTC is already tomorrow."""
    if at.tzinfo is None:
        raise ValueError("india_date needs an aware datetime")
    return at.astimezone(IST).date()
