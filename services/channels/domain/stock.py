"""The stock number a store should show and how it gets there, pure: buffers, shares and the
low-stock rule, push batches, retry delays and the nightly full push."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import TypeVar

T = TypeVar("T")


def stock_to_show(
    available_total: int, *, buffer: int, share_pct: int | None = None, hide_below: int = 0
) -> int:
    """What a store should show: what we can sell less the channel's safety buffer, never negative;
    at most its share of what we can sell, when it has one; and 0 once fewer than ``hide_below``
    units are left (the low-stock rule: the last units sell only where the seller prefers, on the
    stores whose ``hide_below`` is 0)."""
    if available_total < hide_below:
        return 0
    shown = max(0, available_total - buffer)
    if share_pct is not None:
        shown = min(shown, max(0, available_total) * share_pct // 100)
    return shown


def last_full_push_due(now: datetime, *, at_hour: int, tz: tzinfo) -> datetime:
    """When the latest nightly full push was due: today's ``at_hour`` in the seller's time zone, or
    yesterday's when that hour has not come yet today. An account pushed before it is due now."""
    local = now.astimezone(tz)
    due = local.replace(hour=at_hour, minute=0, second=0, microsecond=0)
    return due if due <= local else due - timedelta(days=1)


def stock_batches(rows: Sequence[T], *, size: int, alone: Callable[[T], bool]) -> list[list[T]]:
    """Owed stock levels in calls of at most ``size``; a listing the store refused goes alone, so one
    refusal never holds back the others (ADR 142)."""
    together = [r for r in rows if not alone(r)]
    return [[r] for r in rows if alone(r)] + [together[i : i + size] for i in range(0, len(together), size)]


def next_try_in(attempts: int, *, retry_after_s: float | None, max_s: float) -> float:
    """Seconds before the next try: what the store asked for, else exponential from 1 s, capped."""
    if retry_after_s is not None:
        return min(retry_after_s, max_s)
    return float(min(2 ** max(attempts - 1, 0), max_s))
