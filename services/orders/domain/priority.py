"""Fulfilment priority carried on orders.confirmed.v1: when it must leave, and which goes first.

Order of picking: earliest `promised_dispatch_by` first; among orders due the same day, higher
`priority` first (express before standard, prepaid before COD, high value first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from chassis.clock import IST, india_date
from contracts import DeliverySpeed


@dataclass(frozen=True, slots=True)
class PriorityRules:
    """The knobs, from settings; weights add up, so their sizes set which criterion dominates."""

    cutoff_hour_ist: int = 14
    standard_extra_days: int = 1
    no_dispatch_weekdays: frozenset[int] = frozenset({6})  # Sunday
    holidays: frozenset[date] = frozenset()  # IST dates the warehouses hand nothing to couriers
    speed_weight: int = 100
    prepaid_weight: int = 10
    high_value_paise: int = 500_000
    high_value_weight: int = 1


_SPEED_RANK = {DeliverySpeed.SAME_DAY: 2, DeliverySpeed.EXPRESS: 1, DeliverySpeed.STANDARD: 0}


def is_dispatch_day(day: date, rules: PriorityRules) -> bool:
    """Whether couriers collect on this IST date: not a weekly day off, not a configured holiday."""
    return day.weekday() not in rules.no_dispatch_weekdays and day not in rules.holidays


def _next_dispatch_day(day: date, rules: PriorityRules) -> date:
    """This day if couriers collect on it, else the first one after that they do."""
    for _ in range(366):
        if is_dispatch_day(day, rules):
            return day
        day += timedelta(days=1)
    raise ValueError("no dispatch day within a year: check the holidays and days off")


def promised_dispatch_by(placed_at: datetime, speed: DeliverySpeed, rules: PriorityRules) -> datetime:
    """End of the working day (IST) the order must leave by: the day it was placed if before the
    cut-off and a working day, else the next working day; standard orders get `standard_extra_days`
    more working days. Working days skip `no_dispatch_weekdays` and `holidays`."""
    day = india_date(placed_at)
    if placed_at.astimezone(IST).hour >= rules.cutoff_hour_ist:
        day += timedelta(days=1)
    day = _next_dispatch_day(day, rules)
    # Compared as the enum: a speed that arrives as its stored text still gets its extra days.
    if DeliverySpeed(speed) is DeliverySpeed.STANDARD:
        for _ in range(rules.standard_extra_days):
            day = _next_dispatch_day(day + timedelta(days=1), rules)
    return datetime.combine(day, time(23, 59, 59), IST).astimezone(UTC)


def priority(*, speed: DeliverySpeed, prepaid: bool, total_paise: int, rules: PriorityRules) -> int:
    """Higher is picked first among orders due the same day."""
    return (
        _SPEED_RANK[speed] * rules.speed_weight
        + (rules.prepaid_weight if prepaid else 0)
        + (rules.high_value_weight if total_paise >= rules.high_value_paise else 0)
    )
