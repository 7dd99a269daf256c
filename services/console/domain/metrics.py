"""The console's numbers, as plain functions over counts the store gathers (definitions on the page)."""

from __future__ import annotations

from dataclasses import dataclass


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
