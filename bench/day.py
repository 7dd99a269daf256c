"""A sale day's shape for the load rehearsal: when each of N orders is sent, compressed into a run.

A day's orders do not arrive evenly. Indian D2C sites sell little between 1 and 7 in the morning,
climb through the day and peak in the evening; a sale that goes live at a set hour (a "Diwali sale
at 8 pm") brings a burst in its first minutes. `HOURLY` is that shape as relative weights per IST
hour (an assumption written down, not a measurement: replace it with a seller's own hourly counts),
and `send_offsets` spreads N orders over the day by it, with `burst_share` of them in the first
`burst_minutes` after the sale starts, the whole day compressed into `seconds` of wall time.

Deterministic (no random draws): order i leaves at the day's quantile (i + 0.5) / N, so two runs
send the same schedule and compare.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

HOURLY: tuple[float, ...] = (
    3, 2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6,  # 00–11 IST
    7, 7, 6, 5, 5, 6, 7, 8, 9, 9, 8, 5,  # 12–23 IST
)  # fmt: skip
"""Relative orders per IST hour of an ordinary day (evening peak, quiet small hours)."""


@dataclass(frozen=True, slots=True)
class Sale:
    """When the sale goes live and how much of the day's orders its first minutes bring."""

    start_hour: int = 20
    burst_minutes: float = 10
    burst_share: float = 0.15


def _segments(sale: Sale) -> list[tuple[float, float, float]]:
    """(start minute, end minute, weight) pieces of the day, the burst carved out of its hour."""
    ordinary = sum(HOURLY)
    pieces: list[tuple[float, float, float]] = []
    burst_start = sale.start_hour * 60.0
    burst_end = burst_start + sale.burst_minutes
    for hour, weight in enumerate(HOURLY):
        lo, hi = hour * 60.0, hour * 60.0 + 60
        share = weight / ordinary * (1 - sale.burst_share)
        per_minute = share / 60
        if lo <= burst_start < hi:
            pieces.append((lo, burst_start, per_minute * (burst_start - lo)))
            pieces.append((burst_start, burst_end, sale.burst_share + per_minute * sale.burst_minutes))
            pieces.append((burst_end, hi, per_minute * (hi - burst_end)))
        else:
            pieces.append((lo, hi, share))
    return [p for p in pieces if p[1] > p[0]]


def send_offsets(n: int, seconds: float, sale: Sale | None = None) -> list[float]:
    """When each of n orders leaves, in seconds from the start of the run (non-decreasing, within
    [0, seconds]): the day from midnight IST, compressed into `seconds`."""
    sale = sale or Sale()
    if not 0 <= sale.start_hour < 24 or not 0 <= sale.burst_share < 1 or not 0 < sale.burst_minutes <= 60:
        raise ValueError("the sale starts at an hour 0–23, bursts for 1–60 minutes, with a share below 1")
    if sale.start_hour * 60 + sale.burst_minutes > 24 * 60:
        raise ValueError("the sale's burst must end before midnight")
    pieces = _segments(sale)
    total = sum(w for _, _, w in pieces)
    cumulative: list[float] = []
    running = 0.0
    for _, _, weight in pieces:
        running += weight / total
        cumulative.append(running)
    offsets = []
    for i in range(n):
        q = (i + 0.5) / n
        k = min(bisect.bisect_left(cumulative, q), len(pieces) - 1)
        lo, hi, weight = pieces[k]
        before = cumulative[k] - weight / total
        minute = lo + (hi - lo) * (q - before) / (weight / total)
        offsets.append(minute / (24 * 60) * seconds)
    return offsets
