"""Fulfilment priority carried on orders.confirmed.v1: when it must leave, and which goes first.

Order of picking: earliest `promised_dispatch_by` first; among orders due the same day, higher
`priority` first (express before standard, prepaid before COD, high value first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from chassis.clock import IST, india_date
from contracts import DeliverySpeed


@dataclass(frozen=True, slots=True)
class PriorityRules:
    """The knobs, from settings; weights add up, so their sizes set which criterion dominates."""

    cutoff_hour_ist: int = 14
    standard_extra_days: int = 1
    no_dispatch_weekdays: frozenset[int] = frozenset({6})  # Sunday
    speed_weight: int = 100
    prepaid_weight: int = 10
    high_value_paise: int = 500_000
    high_value_weight: int = 1


_SPEED_RANK = {DeliverySpeed.SAME_DAY: 2, DeliverySpeed.EXPRESS: 1, DeliverySpeed.STANDARD: 0}


def promised_dispatch_by(placed_at: datetime, speed: DeliverySpeed, rules: PriorityRules) -> datetime:
    """End of the working day (IST) the order must leave by: same day if placed before the cutoff,
    else the next working day; standard orders get `standard_extra_days` more."""
    day = india_date(placed_at)
    if placed_at.astimezone(IST).hour >= rules.cutoff_hour_ist:
        day += timedelta(days=1)
    # The stored speed is its string value: compare as the enum, or a standard order gets no extra days.
    extra = rules.standard_extra_days if DeliverySpeed(speed) is DeliverySpeed.STANDARD else 0
    while day.weekday() in rules.no_dispatch_weekdays:
        day += timedelta(days=1)
    for _ in range(extra):
        day += timedelta(days=1)
        while day.weekday() in rules.no_dispatch_weekdays:
            day += timedelta(days=1)
    return datetime.combine(day, time(23, 59, 59), IST).astimezone(UTC)


def priority(*, speed: DeliverySpeed, prepaid: bool, total_paise: int, rules: PriorityRules) -> int:
    """Higher is picked first among orders due the same day."""
    return (
        _SPEED_RANK[speed] * rules.speed_weight
        + (rules.prepaid_weight if prepaid else 0)
        + (rules.high_value_weight if total_paise >= rules.high_value_paise else 0)
    )
