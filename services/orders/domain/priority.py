"""Fulfilment priority carried on orders.confirmed.v1: when it must leave, and which goes first.

Order of picking: earliest `promised_dispatch_by` first; among orders due the same day, higher
`priority` first (express before standard, prepaid before COD, high value first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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


def promised_dispatch_by(
    placed_at: datetime, speed: DeliverySpeed, rules: PriorityRules, cutoff: time | None = None
) -> datetime:
    """End of the working day (IST) the order must leave by: the day it was placed if before the
    cut-off and a working day, else the next working day; standard orders get `standard_extra_days`
    more working days. Working days skip `no_dispatch_weekdays` and `holidays`. The cut-off is the
    warehouse's (an IST time of day, ADR 0361), else `cutoff_hour_ist`."""
    day = india_date(placed_at)
    if placed_at.astimezone(IST).time() >= (cutoff or time(rules.cutoff_hour_ist)):
        day += timedelta(days=1)
    day = _next_dispatch_day(day, rules)
    # Compared as the enum: a speed that arrives as its stored text still gets its extra days.
    if DeliverySpeed(speed) is DeliverySpeed.STANDARD:
        for _ in range(rules.standard_extra_days):
            day = _next_dispatch_day(day + timedelta(days=1), rules)
    return datetime.combine(day, time(23, 59, 59), IST).astimezone(UTC)


def order_dispatch_by(
    placed_at: datetime,
    speed: DeliverySpeed,
    rules: PriorityRules,
    *,
    warehouses: Sequence[str],
    cutoffs: Mapping[str, time],
) -> datetime:
    """The order's one promise when its parcels leave from several warehouses: the latest of theirs,
    the day every parcel can be out (a parcel of a warehouse past its cut-off cannot leave today).
    A warehouse without a cut-off of its own, or no warehouse yet, takes the default."""
    return max(
        promised_dispatch_by(placed_at, speed, rules, cutoffs.get(code)) for code in warehouses or [""]
    )


def priority(*, speed: DeliverySpeed, prepaid: bool, total_paise: int, rules: PriorityRules) -> int:
    """Higher is picked first among orders due the same day."""
    return (
        _SPEED_RANK[speed] * rules.speed_weight
        + (rules.prepaid_weight if prepaid else 0)
        + (rules.high_value_weight if total_paise >= rules.high_value_paise else 0)
    )


# Priority rules as data: an operator's weights, stored and edited over HTTP (ADR 262) ------------


@dataclass(frozen=True, slots=True)
class ValueBand:
    """Orders worth at least `from_paise` get `weight` (the highest band reached counts)."""

    from_paise: int
    weight: int


@dataclass(frozen=True, slots=True)
class PincodeRange:
    """Destinations from `first` to `last` (six-digit pincodes, inclusive) get `weight`."""

    first: str
    last: str
    weight: int
    label: str = ""


@dataclass(frozen=True, slots=True)
class Weights:
    """What each fact about an order adds to its priority; the first matching pincode range counts."""

    speed: dict[str, int]
    prepaid: int
    cod: int
    value_bands: tuple[ValueBand, ...] = ()
    channels: dict[str, int] = field(default_factory=dict)
    pincodes: tuple[PincodeRange, ...] = ()


@dataclass(frozen=True, slots=True)
class PriorityFacts:
    """What the priority of one order is decided on."""

    speed: DeliverySpeed
    prepaid: bool
    total_paise: int
    channel: str
    pincode: str


def weights_from(rules: PriorityRules) -> Weights:
    """The settings' weights as rules: what applies until an operator stores their own."""
    return Weights(
        speed={s.value: rank * rules.speed_weight for s, rank in _SPEED_RANK.items()},
        prepaid=rules.prepaid_weight,
        cod=0,
        value_bands=(ValueBand(rules.high_value_paise, rules.high_value_weight),),
    )


def scored(facts: PriorityFacts, weights: Weights) -> tuple[int, tuple[str, ...]]:
    """The order's priority under these weights, and one reason per weight that counted."""
    parts: list[tuple[int, str]] = [
        (weights.speed.get(DeliverySpeed(facts.speed).value, 0), f"{DeliverySpeed(facts.speed).value}"),
        (weights.prepaid, "prepaid") if facts.prepaid else (weights.cod, "cod"),
    ]
    reached = [b for b in weights.value_bands if facts.total_paise >= b.from_paise]
    if reached:
        band = max(reached, key=lambda b: b.from_paise)
        parts.append((band.weight, f"value ≥ ₹{band.from_paise / 100:,.2f}"))
    if facts.channel in weights.channels:
        parts.append((weights.channels[facts.channel], f"channel {facts.channel}"))
    for r in weights.pincodes:
        if r.first <= facts.pincode <= r.last:
            parts.append((r.weight, f"pincode {r.first}–{r.last}" + (f" ({r.label})" if r.label else "")))
            break
    counted = [(w, why) for w, why in parts if w != 0]
    return sum(w for w, _ in counted), tuple(f"{why} {w:+d}" for w, why in counted)


def queue_order(items: list[tuple[datetime | None, int, str]]) -> list[str]:
    """Ids in the order they are picked: earliest dispatch-by (none last), then higher priority."""
    far = datetime.max.replace(tzinfo=UTC)
    return [i for _, _, i in sorted(items, key=lambda t: (t[0] or far, -t[1], t[2]))]
