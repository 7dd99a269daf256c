"""Every decision that reads the calendar or the time of day in India, run at the last second of a
day (23:59:59 IST) and the first (00:00:00 IST), and across the financial year's end (31 March to
1 April). India's midnight is 18:30 UTC, when a server's own calendar still says yesterday."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from chassis.clock import IST, india_date
from contracts import DeliverySpeed, OrderLine, OrderStatus, ReplyChoice, ReturnLine, ReturnReason
from services.notifications.domain.delivery import QuietHours, send_at
from services.notifications.domain.replies import reattempt_on
from services.orders.domain.priority import PriorityRules, promised_dispatch_by
from services.returns.domain.eligibility import eligibility_problems, last_return_day
from services.routing import domain as routing
from services.shipping.domain import reattempt_day_problem

LAST_SECOND = datetime(2027, 3, 31, 23, 59, 59, tzinfo=IST)  # the financial year 2026-27 ends
FIRST_SECOND = datetime(2027, 4, 1, 0, 0, 0, tzinfo=IST)  # FY 2027-28 begins; 18:30 UTC on 31 March
DAY_END = datetime(2026, 12, 5, 23, 59, 59, tzinfo=IST)
DAY_START = datetime(2026, 12, 6, 0, 0, 0, tzinfo=IST)


def as_server_sees(at: datetime) -> datetime:
    """The same moment as a UTC server holds it (the services never see IST offsets)."""
    return at.astimezone(UTC)


def test_the_day_in_india_turns_at_1830_utc_not_at_the_server_s_midnight() -> None:
    assert india_date(as_server_sees(LAST_SECOND)) == date(2027, 3, 31)
    assert india_date(as_server_sees(FIRST_SECOND)) == date(2027, 4, 1)
    assert as_server_sees(FIRST_SECOND).date() == date(2027, 3, 31), "UTC still says 31 March"
    with pytest.raises(ValueError, match="aware"):
        india_date(datetime(2027, 4, 1))


# notifications: quiet hours and "deliver tomorrow" -----------------------------------------------


@pytest.mark.parametrize("last, first", [(DAY_END, DAY_START), (LAST_SECOND, FIRST_SECOND)])
def test_a_message_held_for_quiet_hours_goes_at_nine_on_the_morning_after_midnight(
    last: datetime, first: datetime
) -> None:
    quiet = QuietHours()  # 21:00-09:00 IST
    nine = datetime.combine(india_date(first), time(9, 0), IST)
    assert send_at(as_server_sees(last), urgent=False, quiet=quiet) == nine
    assert send_at(as_server_sees(first), urgent=False, quiet=quiet) == nine
    assert send_at(as_server_sees(last), urgent=True, quiet=quiet) == as_server_sees(last)


def test_quiet_hours_begin_and_end_on_the_second() -> None:
    quiet = QuietHours()
    evening = datetime(2027, 3, 31, 21, 0, tzinfo=IST)
    assert send_at(evening - timedelta(seconds=1), urgent=False, quiet=quiet) == evening - timedelta(
        seconds=1
    )
    assert send_at(evening, urgent=False, quiet=quiet) == datetime(2027, 4, 1, 9, 0, tzinfo=IST)
    morning = datetime(2027, 4, 1, 9, 0, tzinfo=IST)
    assert send_at(morning, urgent=False, quiet=quiet) == morning


def test_deliver_tomorrow_means_the_next_day_in_india_on_either_side_of_midnight() -> None:
    assert reattempt_on(ReplyChoice.NDR_REATTEMPT, as_server_sees(LAST_SECOND)) == date(2027, 4, 1)
    assert reattempt_on(ReplyChoice.NDR_REATTEMPT, as_server_sees(FIRST_SECOND)) == date(2027, 4, 2)
    assert reattempt_on(ReplyChoice.NDR_RTO, as_server_sees(FIRST_SECOND)) is None


# shipping: an operator's re-attempt day ----------------------------------------------------------


def test_a_reattempt_day_is_in_the_past_only_once_india_s_day_has_turned() -> None:
    assert reattempt_day_problem(date(2027, 3, 31), now=as_server_sees(LAST_SECOND)) is None
    late = reattempt_day_problem(date(2027, 3, 31), now=as_server_sees(FIRST_SECOND))
    assert late == "2027-03-31 is in the past (today in India is 2027-04-01)"
    assert reattempt_day_problem(date(2027, 4, 1), now=as_server_sees(FIRST_SECOND)) is None
    assert reattempt_day_problem(None, now=as_server_sees(FIRST_SECOND)) is None


# orders: the dispatch-by promise ----------------------------------------------------------------


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), IST).astimezone(UTC)


def test_an_order_placed_a_second_before_midnight_is_due_like_one_placed_after_the_cut_off() -> None:
    rules = PriorityRules()  # 14:00 IST cut-off, no dispatch on Sundays, standard +1 day
    # 31 March 2027 is a Wednesday: past the cut-off, an express order leaves on Thursday 1 April.
    assert promised_dispatch_by(as_server_sees(LAST_SECOND), DeliverySpeed.EXPRESS, rules) == end_of(
        date(2027, 4, 1)
    )
    # One second later it is 1 April before the cut-off: still Thursday 1 April.
    assert promised_dispatch_by(as_server_sees(FIRST_SECOND), DeliverySpeed.EXPRESS, rules) == end_of(
        date(2027, 4, 1)
    )


def test_a_standard_order_gets_its_extra_day_even_when_its_speed_is_the_stored_text() -> None:
    rules = PriorityRules()
    morning = datetime(2026, 12, 4, 10, 0, tzinfo=IST)  # a Friday, before the cut-off
    expected = end_of(date(2026, 12, 5))
    assert promised_dispatch_by(morning, DeliverySpeed.STANDARD, rules) == expected
    stored = DeliverySpeed.STANDARD.value  # what lifecycle reads back from PostgreSQL
    assert promised_dispatch_by(morning, stored, rules) == expected  # type: ignore[arg-type]


def test_a_standard_order_placed_on_saturday_night_skips_sunday_twice() -> None:
    saturday_night = datetime(2026, 12, 5, 23, 59, 59, tzinfo=IST)
    # Past Saturday's cut-off: Sunday is skipped to Monday, then one extra working day: Tuesday.
    due = promised_dispatch_by(as_server_sees(saturday_night), DeliverySpeed.STANDARD, PriorityRules())
    assert due == end_of(date(2026, 12, 8))


# routing: daily capacity per local day and the warehouse cut-off --------------------------------

GGN1 = routing.Warehouse(
    "GGN1", "Gurugram", "122001", 28.45987, 77.02498, daily_capacity=100, cutoff=time(23, 59)
)
BOM1 = routing.Warehouse("BOM1", "Bhiwandi", "421302", 19.3171, 73.0486)
TEA = OrderLine(sku="TEA-ASSAM-250", quantity=1, unit_price_paise=34900)


def plan_at(at: datetime, taken_by_day: dict[date, dict[str, int]]) -> list[str]:
    """The first-ranked warehouse, planned at a moment with the orders each took per local day."""
    day, local_time = routing.local_moment(at, IST)
    plans, _ = routing.plan(
        order=routing.Order(lines=[TEA], customer_pincode="302001"),
        warehouses=[GGN1, BOM1],
        available={("TEA-ASSAM-250", "GGN1"): 5, ("TEA-ASSAM-250", "BOM1"): 5},
        today=routing.Today(local_time=local_time, orders_taken=taken_by_day.get(day, {})),
    )
    return [s.warehouse_code for s in plans[0].shipments]


def test_capacity_counts_each_day_in_india_and_a_full_warehouse_is_free_again_at_midnight() -> None:
    full_on_31st = {date(2027, 3, 31): {"GGN1": 100}}
    assert routing.local_moment(as_server_sees(LAST_SECOND), IST)[0] == date(2027, 3, 31)
    assert plan_at(as_server_sees(LAST_SECOND), full_on_31st) == ["BOM1"]
    assert plan_at(as_server_sees(FIRST_SECOND), full_on_31st) == ["GGN1"]


def test_a_cut_off_at_2359_is_passed_at_235959_and_not_at_midnight() -> None:
    assert plan_at(as_server_sees(DAY_END), {}) == ["BOM1"], "past GGN1's cut-off: it ships tomorrow"
    assert plan_at(as_server_sees(DAY_START), {}) == ["GGN1"]


# returns: the return window ---------------------------------------------------------------------


def window_problems(*, delivered_at: datetime, now: datetime, window_days: int) -> list[str]:
    found = eligibility_problems(
        order_id="ORD-FY",
        order_status=OrderStatus.DELIVERED,
        delivered_at=as_server_sees(delivered_at),
        now=as_server_sees(now),
        window_days=window_days,
        lines=[ReturnLine(sku="TEA-ASSAM-250", quantity=1, reason=ReturnReason.DAMAGED)],
        already_requested=frozenset(),
    )
    return [p.problem for p in found]


def test_a_return_window_runs_to_the_end_of_its_last_day_in_india() -> None:
    # Delivered a second before the financial year ends: a 1-day window lasts all of 1 April.
    assert last_return_day(as_server_sees(LAST_SECOND), 1) == date(2027, 4, 1)
    assert window_problems(delivered_at=LAST_SECOND, now=LAST_SECOND + timedelta(days=1), window_days=1) == []
    (late,) = window_problems(delivered_at=LAST_SECOND, now=FIRST_SECOND + timedelta(days=1), window_days=1)
    assert late == (
        "order ORD-FY was delivered on 2027-03-31; returns were accepted for 1 days, until 2027-04-01"
    )


def test_a_parcel_delivered_at_midnight_belongs_to_the_new_day() -> None:
    assert last_return_day(as_server_sees(FIRST_SECOND), 7) == date(2027, 4, 8)
    assert (
        window_problems(
            delivered_at=FIRST_SECOND, now=datetime(2027, 4, 8, 23, 59, 59, tzinfo=IST), window_days=7
        )
        == []
    )
    assert window_problems(
        delivered_at=FIRST_SECOND, now=datetime(2027, 4, 9, 0, 0, tzinfo=IST), window_days=7
    )
