"""The load rehearsal's day: every order sent once, in order, inside the run, shaped like a sale day."""

from __future__ import annotations

import pytest

from bench import day


def sent_between(offsets: list[float], seconds: float, start_hour: float, end_hour: float) -> int:
    lo, hi = start_hour / 24 * seconds, end_hour / 24 * seconds
    return sum(lo <= t < hi for t in offsets)


def test_every_order_leaves_once_in_order_inside_the_run() -> None:
    offsets = day.send_offsets(8000, 600)
    assert len(offsets) == 8000
    assert offsets == sorted(offsets)
    assert 0 <= offsets[0] and offsets[-1] <= 600


def test_the_sale_brings_its_share_in_its_first_ten_minutes_and_the_small_hours_are_quiet() -> None:
    offsets = day.send_offsets(10_000, 1440, day.Sale(start_hour=20, burst_minutes=10, burst_share=0.15))
    burst = sent_between(offsets, 1440, 20, 20 + 10 / 60)
    ordinary_10_minutes = sent_between(offsets, 1440, 19, 19 + 10 / 60)
    assert 1500 <= burst <= 1700  # 15% plus the hour's ordinary trickle
    assert burst > 10 * ordinary_10_minutes
    assert sent_between(offsets, 1440, 3, 4) < sent_between(offsets, 1440, 21, 22) / 5


def test_the_same_day_gives_the_same_schedule() -> None:
    assert day.send_offsets(500, 60) == day.send_offsets(500, 60)


@pytest.mark.parametrize(
    "sale",
    [
        day.Sale(start_hour=24),
        day.Sale(burst_share=1.0),
        day.Sale(burst_minutes=0),
        day.Sale(start_hour=23, burst_minutes=61),
    ],
)
def test_an_impossible_sale_is_refused(sale: day.Sale) -> None:
    with pytest.raises(ValueError):
        day.send_offsets(10, 60, sale)
