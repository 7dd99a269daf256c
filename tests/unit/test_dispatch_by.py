"""The dispatch-by promise on a confirmed order: the 14:00 IST cut-off, standard's extra working day,
Sundays and configured holidays skipped. Every moment is given as a UTC server holds it (the clock is
the order's `placed_at`, never the wall clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from chassis.clock import IST
from contracts import DeliverySpeed
from services.orders.domain.priority import (
    PriorityRules,
    is_dispatch_day,
    order_dispatch_by,
    promised_dispatch_by,
)

RULES = PriorityRules()  # cut-off 14:00 IST, no collection on Sundays, standard +1 working day
EXPRESS, STANDARD = DeliverySpeed.EXPRESS, DeliverySpeed.STANDARD
# A year with a Monday holiday after Diwali Sunday (8 November 2026).
DIWALI = PriorityRules(holidays=frozenset({date(2026, 11, 9)}))


def placed(text: str) -> datetime:
    """An IST wall-clock time, as the UTC moment the server stores."""
    return datetime.fromisoformat(text).replace(tzinfo=IST).astimezone(UTC)


def end_of(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(23, 59, 59), IST).astimezone(UTC)


@pytest.mark.parametrize(
    ("at", "speed", "due"),
    [
        # Wednesday 2 December 2026, a second either side of the cut-off
        ("2026-12-02T13:59:59", EXPRESS, "2026-12-02"),
        ("2026-12-02T14:00:00", EXPRESS, "2026-12-03"),
        ("2026-12-02T13:59:59", STANDARD, "2026-12-03"),
        ("2026-12-02T14:00:00", STANDARD, "2026-12-04"),
        # Friday 4 December, 10:00: the order, due Saturday, not the same Friday night
        ("2026-12-04T10:00:00", STANDARD, "2026-12-05"),
        # Saturday 5 December: Saturday is a working day, Sunday is not
        ("2026-12-05T11:00:00", EXPRESS, "2026-12-05"),
        ("2026-12-05T11:00:00", STANDARD, "2026-12-07"),
        ("2026-12-05T15:00:00", EXPRESS, "2026-12-07"),
        ("2026-12-05T15:00:00", STANDARD, "2026-12-08"),
        # An order placed on Sunday waits for Monday, and standard for Tuesday
        ("2026-12-06T09:00:00", EXPRESS, "2026-12-07"),
        ("2026-12-06T09:00:00", STANDARD, "2026-12-08"),
    ],
)
def test_dispatch_by_around_the_cut_off_and_the_weekend(at: str, speed: DeliverySpeed, due: str) -> None:
    assert promised_dispatch_by(placed(at), speed, RULES) == end_of(due)


@pytest.mark.parametrize(
    ("at", "speed", "due"),
    [
        # Saturday 7 November before the cut-off: express leaves Saturday; standard's extra working
        # day skips Diwali Sunday and the Monday holiday.
        ("2026-11-07T10:00:00", EXPRESS, "2026-11-07"),
        ("2026-11-07T10:00:00", STANDARD, "2026-11-10"),
        # Saturday after the cut-off: Sunday and the holiday are skipped, then standard's extra day.
        ("2026-11-07T16:00:00", EXPRESS, "2026-11-10"),
        ("2026-11-07T16:00:00", STANDARD, "2026-11-11"),
        # Placed on the holiday itself, before its cut-off: nothing leaves that day.
        ("2026-11-09T09:00:00", EXPRESS, "2026-11-10"),
    ],
)
def test_dispatch_by_before_a_configured_holiday(at: str, speed: DeliverySpeed, due: str) -> None:
    assert promised_dispatch_by(placed(at), speed, DIWALI) == end_of(due)


def test_without_the_holiday_configured_the_monday_is_a_working_day() -> None:
    assert promised_dispatch_by(placed("2026-11-07T10:00:00"), STANDARD, RULES) == end_of("2026-11-09")
    assert is_dispatch_day(date(2026, 11, 9), RULES)
    assert not is_dispatch_day(date(2026, 11, 9), DIWALI)


def test_a_year_without_a_dispatch_day_is_a_configuration_error() -> None:
    every_day = PriorityRules(no_dispatch_weekdays=frozenset(range(7)))
    with pytest.raises(ValueError, match="no dispatch day"):
        promised_dispatch_by(placed("2026-12-02T10:00:00"), EXPRESS, every_day)


# A warehouse's own cut-off (ADR 0361): Gurugram hands parcels over until 16:30, Bhiwandi until 11:00.
GGN_1630, BOM_1100 = time(16, 30), time(11, 0)


@pytest.mark.parametrize(
    ("at", "speed", "cutoff", "due"),
    [
        # Wednesday 2 December, a second either side of Gurugram's 16:30 (past the default 14:00)
        ("2026-12-02T16:29:59", EXPRESS, GGN_1630, "2026-12-02"),
        ("2026-12-02T16:30:00", EXPRESS, GGN_1630, "2026-12-03"),
        ("2026-12-02T16:29:59", STANDARD, GGN_1630, "2026-12-03"),
        ("2026-12-02T16:30:00", STANDARD, GGN_1630, "2026-12-04"),
        # An earlier cut-off than the default: 12:00 is already tomorrow at Bhiwandi
        ("2026-12-02T10:59:59", EXPRESS, BOM_1100, "2026-12-02"),
        ("2026-12-02T12:00:00", EXPRESS, BOM_1100, "2026-12-03"),
        # Saturday 5 December: before the warehouse's cut-off Saturday counts; after it, Sunday is skipped
        ("2026-12-05T15:00:00", EXPRESS, GGN_1630, "2026-12-05"),
        ("2026-12-05T15:00:00", STANDARD, GGN_1630, "2026-12-07"),
        ("2026-12-05T17:00:00", EXPRESS, GGN_1630, "2026-12-07"),
        ("2026-12-05T17:00:00", STANDARD, GGN_1630, "2026-12-08"),
        # No cut-off of its own: the default 14:00, as before
        ("2026-12-02T15:00:00", EXPRESS, None, "2026-12-03"),
    ],
)
def test_dispatch_by_around_a_warehouses_own_cut_off(
    at: str, speed: DeliverySpeed, cutoff: time | None, due: str
) -> None:
    assert promised_dispatch_by(placed(at), speed, RULES, cutoff) == end_of(due)


@pytest.mark.parametrize(
    ("at", "speed", "due"),
    [
        # Saturday 7 November, the eve of Diwali Sunday and the Monday holiday
        ("2026-11-07T16:00:00", EXPRESS, "2026-11-07"),  # before Gurugram's 16:30: out on Saturday
        ("2026-11-07T16:00:00", STANDARD, "2026-11-10"),
        ("2026-11-07T16:45:00", EXPRESS, "2026-11-10"),
        ("2026-11-07T16:45:00", STANDARD, "2026-11-11"),
    ],
)
def test_a_warehouses_cut_off_before_a_holiday(at: str, speed: DeliverySpeed, due: str) -> None:
    assert promised_dispatch_by(placed(at), speed, DIWALI, GGN_1630) == end_of(due)


def test_an_order_split_over_two_warehouses_is_promised_for_when_both_parcels_can_leave() -> None:
    at = placed("2026-12-02T12:00:00")  # past Bhiwandi's 11:00, before Gurugram's 16:30
    cutoffs = {"GGN1": GGN_1630, "BOM1": BOM_1100}

    split = order_dispatch_by(at, EXPRESS, RULES, warehouses=["BOM1", "GGN1"], cutoffs=cutoffs)
    gurugram = order_dispatch_by(at, EXPRESS, RULES, warehouses=["GGN1"], cutoffs=cutoffs)
    unknown = order_dispatch_by(at, EXPRESS, RULES, warehouses=["BLR1"], cutoffs=cutoffs)
    unreserved = order_dispatch_by(at, EXPRESS, RULES, warehouses=[], cutoffs=cutoffs)

    assert split == end_of("2026-12-03")
    assert gurugram == end_of("2026-12-02")
    assert unknown == unreserved == end_of("2026-12-02"), "the default 14:00"
