"""The bench's verdicts: whether a paced run kept up, and SQL statements per order."""

from __future__ import annotations

from bench.hot_sku import Sale
from bench.run import keeping_up
from bench.statements import Statements
from contracts import topics


def test_a_run_whose_last_orders_wait_as_long_as_its_first_keeps_up() -> None:
    steady = [(float(i), 0.08 + (i % 7) / 100) for i in range(100)]
    verdict = keeping_up(steady, rate=40, confirmed_per_s=39.2)
    assert verdict is not None and verdict["kept_up"]


def test_a_run_that_confirms_slower_than_it_was_sent_falls_behind_even_with_a_steady_wait() -> None:
    queued = [(float(i), 3.0 + (i % 7) / 10) for i in range(100)]  # every order waits ~3 s
    verdict = keeping_up(queued, rate=40, confirmed_per_s=35.4)
    assert verdict is not None and not verdict["kept_up"]


def test_a_run_whose_queue_grows_falls_behind() -> None:
    growing = [(float(i), 0.05 + i * 0.05) for i in range(100)]  # every order waits 50 ms longer
    verdict = keeping_up(growing, rate=40, confirmed_per_s=39.5)
    assert verdict is not None and not verdict["kept_up"]
    assert verdict["first_fifth_p50_s"] < 1 < verdict["last_fifth_p50_s"]


def test_too_few_orders_get_no_verdict() -> None:
    assert keeping_up([(0.0, 0.1)] * 9, rate=40, confirmed_per_s=40) is None


def test_statements_per_order_divide_by_the_orders_largest_database_first() -> None:
    counted = Statements(
        calls={"orders": 1100, "console": 1460},
        exec_ms={"orders": 50.0, "console": 300.0},
        plan_ms={"orders": 80.0, "console": 20.0},
        top=[],
    )
    per = counted.per_order(100)
    assert per["total"] == 25.6
    assert list(per["by_database"].items()) == [("console", 14.6), ("orders", 11.0)]
    assert per["exec_ms_by_database"] == {"console": 3.0, "orders": 0.5}
    assert list(per["plan_ms_by_database"].items()) == [("orders", 0.8), ("console", 0.2)]


def test_a_hot_sku_outcome_read_before_its_order_was_placed_still_counts() -> None:
    """The followed topics are fetched side by side: a reservation can come before its placement."""
    sale = Sale(prefix="HOT-1-")
    reserved = {"order_id": "ORD-A", "allocations": [{"quantity": 1}]}
    failed = {"order_id": "ORD-B", "final": True}
    sale.see(topics.INVENTORY_RESERVED, reserved, 5)
    sale.see(topics.INVENTORY_RESERVATION_FAILED, failed, 6)
    sale.see(topics.INVENTORY_RESERVED, {"order_id": "ORD-X", "allocations": [{"quantity": 1}]}, 6)
    assert sale.decided == 0
    sale.see(topics.ORDERS_PLACED, {"order_id": "ORD-A", "channel_order_id": "HOT-1-0"}, 4)
    sale.see(topics.ORDERS_PLACED, {"order_id": "ORD-B", "channel_order_id": "HOT-1-1"}, 4)
    sale.see(topics.ORDERS_PLACED, {"order_id": "ORD-X", "channel_order_id": "WARMUP-1-0"}, 4)
    assert sale.reserved == {"ORD-A": [1]} and sale.failed_final == {"ORD-B": 1}
    assert (sale.decided, sale.first_placed_ms, sale.last_reserved_ms) == (2, 4, 5)
