"""The console's numbers, as plain functions over counts the store gathers (definitions on the page)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ReturnRate:
    """Units returned of a SKU per 100 units sold, and why they came back."""

    sku: str
    sold: int
    returned: int
    by_reason: dict[str, int]

    @property
    def percent(self) -> float:
        return round(100 * self.returned / self.sold, 1) if self.sold else 0.0


def return_rates(sold: dict[str, int], returned: list[tuple[str, str, int]]) -> list[ReturnRate]:
    """Return rate by SKU: units asked back (any reason) over units sold, highest rate first.

    `sold` counts units on orders that were not rejected or cancelled; `returned` is (sku, reason,
    units) from return requests. A SKU returned but never sold here (an old order) counts as sold 0."""
    reasons: dict[str, dict[str, int]] = {}
    for sku, reason, units in returned:
        reasons.setdefault(sku, {})
        reasons[sku][reason] = reasons[sku].get(reason, 0) + units
    rates = [
        ReturnRate(sku, sold.get(sku, 0), sum(by.values()), dict(sorted(by.items())))
        for sku, by in reasons.items()
    ]
    rates += [ReturnRate(sku, units, 0, {}) for sku, units in sold.items() if sku not in reasons]
    return sorted(rates, key=lambda r: (-r.percent, -r.returned, r.sku))


def orders_by_channel_and_day(
    rows: list[tuple[str, str, int]],
) -> tuple[list[str], list[str], dict[tuple[str, str], int]]:
    """(days, channels, count per (day, channel)) from (day, channel, orders) rows, days ascending."""
    days = sorted({day for day, _, _ in rows})
    channels = sorted({channel for _, channel, _ in rows})
    return days, channels, {(day, channel): n for day, channel, n in rows}


@dataclass(frozen=True)
class OrderFacts:
    """What the numbers need of one order, gathered from its read-model row."""

    order_id: str
    payment_method: str | None
    status: str | None
    couriers: tuple[str, ...]
    placed: datetime | None
    confirmed: datetime | None
    picked_up: datetime | None
    first_attempt: datetime | None
    delivered: datetime | None
    rto: datetime | None
    promised_dispatch_by: datetime | None
    ndr_attempts: int
    wrong_item_returned: bool


@dataclass(frozen=True)
class CourierRto:
    """Parcels a courier picked up and how many of those orders went back to origin."""

    courier: str
    picked_up: int
    rto: int

    @property
    def percent(self) -> float:
        return _percent(self.rto, self.picked_up) or 0.0


@dataclass(frozen=True)
class Summary:
    """The seller's numbers over a set of orders; None where nothing could be measured yet."""

    orders: int
    fulfilment_rate: float | None
    avg_dispatch_hours: float | None
    delivery_p50_hours: float | None
    delivery_p90_hours: float | None
    order_error_rate: float | None
    cod_share: float | None
    ndr_rate: float | None
    rto_by_courier: list[CourierRto]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _hours(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 3600


def percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least p% of values at or below it."""
    if not values:
        return None
    ranked = sorted(values)
    return ranked[max(0, math.ceil(p / 100 * len(ranked)) - 1)]


def summarise(facts: list[OrderFacts], *, now: datetime) -> Summary:
    """Every number on the analytics page from the orders placed in its window (rejected ones are
    not orders yet and are left out by the caller). Definitions are the ones written on the page."""
    live = [f for f in facts if f.status != "CANCELLED"]
    due = [
        f
        for f in live
        if f.promised_dispatch_by is not None and (f.picked_up is not None or f.promised_dispatch_by <= now)
    ]
    on_time = [f for f in due if f.picked_up is not None and f.picked_up <= f.promised_dispatch_by]  # type: ignore[operator]
    dispatch = [_hours(f.picked_up, f.confirmed) for f in facts if f.picked_up and f.confirmed]
    delivery = [_hours(f.delivered, f.placed) for f in facts if f.delivered and f.placed]
    shipped = [f for f in facts if f.picked_up is not None]
    paid = [f for f in facts if f.payment_method is not None]
    attempted = [f for f in facts if f.first_attempt is not None]
    couriers: dict[str, list[OrderFacts]] = {}
    for f in shipped:
        for courier in f.couriers:
            couriers.setdefault(courier, []).append(f)
    p50, p90 = percentile(delivery, 50), percentile(delivery, 90)
    return Summary(
        orders=len(facts),
        fulfilment_rate=_percent(len(on_time), len(due)),
        avg_dispatch_hours=round(sum(dispatch) / len(dispatch), 2) if dispatch else None,
        delivery_p50_hours=None if p50 is None else round(p50, 2),
        delivery_p90_hours=None if p90 is None else round(p90, 2),
        order_error_rate=_percent(sum(f.wrong_item_returned for f in shipped), len(shipped)),
        cod_share=_percent(sum(f.payment_method == "cod" for f in paid), len(paid)),
        ndr_rate=_percent(sum(f.ndr_attempts > 0 for f in attempted), len(attempted)),
        rto_by_courier=[
            CourierRto(courier, len(fs), sum(f.rto is not None for f in fs))
            for courier, fs in sorted(couriers.items())
        ],
    )


def tickets_per_100_orders(tickets: int, orders: int) -> float | None:
    """Support tickets opened per 100 orders placed in the same window (None without orders)."""
    return round(100 * tickets / orders, 1) if orders else None
