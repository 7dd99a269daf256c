"""`make chaos` judges a soak from what the topics and databases showed: lost, stuck, duplicated,
dead-lettered and notified orders, each counted once; and its faults all fall inside the load."""

from __future__ import annotations

from typing import Any

from bench.chaos import Facts, judge, schedule
from bench.run import Observed
from contracts import topics

PREFIX = "CHAOS-T-"


def went_all_the_way(observed: Observed, n: int, *, copies: int = 1) -> None:
    """Order n placed, reserved, confirmed, shipped and messaged, each effect `copies` times."""
    coid, oid = f"{PREFIX}{n}", f"ORD-{n}"
    for copy in range(copies):
        events: list[tuple[str, dict[str, Any]]] = [
            (topics.ORDERS_PLACED, {"order_id": oid, "channel_order_id": coid}),
            (topics.INVENTORY_RESERVED, {"order_id": oid}),
            (topics.ORDERS_CONFIRMED, {"order_id": oid, "channel_order_id": coid}),
            (topics.SHIPPING_SHIPMENT_CREATED, {"order_id": oid, "shipment_id": f"SHP-{n}-{copy}"}),
            (
                topics.NOTIFICATIONS_SENT,
                {
                    "order_id": oid,
                    "channel": "whatsapp",
                    "template": "order_confirmed",
                    "message_id": f"M{n}{copy}",
                },
            ),
        ]
        for topic, body in events:
            observed.apply(topic, f"{topic}-{n}-{copy}", 0, body)


def facts(observed: Observed, sent: int, **overrides: Any) -> Facts:
    orders = {f"{PREFIX}{n}": 2 for n in range(sent)}
    fields: dict[str, Any] = {
        "sent": orders,
        "observed": observed,
        "order_rows": dict.fromkeys(orders, 1),
        "shipment_rows": {f"ORD-{n}": 1 for n in range(sent)},
        "whatsapp_rows": [(f"ORD-{n}", "order_confirmed", 1) for n in range(sent)],
        "reserved_units": {f"ORD-{n}": 2 for n in range(sent)},
        "dead_letters": {},
    }
    return Facts(**(fields | overrides))


def test_every_order_once_all_the_way_and_nothing_dead_lettered_passes() -> None:
    observed = Observed(PREFIX)
    for n in range(3):
        went_all_the_way(observed, n)
    observed.apply(
        topics.ORDERS_PLACED, f"{topics.ORDERS_PLACED}-0-0", 0, {"order_id": "ORD-0"}
    )  # redelivery

    verdict = judge(facts(observed, 3))

    assert (verdict.placed, verdict.lost, verdict.stuck, verdict.dead_lettered, verdict.notified) == (
        3,
        0,
        0,
        0,
        3,
    )
    assert verdict.passed
    assert verdict.lines()[-1] == "exactly once: OK"


def test_an_order_never_placed_is_lost_and_one_placed_but_never_messaged_is_stuck() -> None:
    observed = Observed(PREFIX)
    went_all_the_way(observed, 0)
    observed.apply(topics.ORDERS_PLACED, "p1", 0, {"order_id": "ORD-1", "channel_order_id": f"{PREFIX}1"})

    verdict = judge(facts(observed, 3, order_rows={f"{PREFIX}0": 1, f"{PREFIX}1": 1}))

    assert (verdict.lost, verdict.stuck, verdict.notified) == (1, 1, 1)
    assert not verdict.passed


def test_each_duplicated_effect_is_counted_by_kind_from_topics_and_databases() -> None:
    observed = Observed(PREFIX)
    went_all_the_way(observed, 0, copies=2)
    went_all_the_way(observed, 1)

    verdict = judge(
        facts(
            observed,
            2,
            order_rows={f"{PREFIX}0": 2, f"{PREFIX}1": 1},
            shipment_rows={"ORD-0": 2, "ORD-1": 1},
            whatsapp_rows=[("ORD-0", "order_confirmed", 2), ("ORD-1", "order_confirmed", 1)],
            reserved_units={"ORD-0": 4, "ORD-1": 2},
        )
    )

    assert verdict.duplicated == {
        "order_placed_twice": 0,  # one order id, published twice: one order
        "order_rows": 1,
        "confirmed_twice": 1,
        "reserved_twice": 1,
        "reserved_units_over": 1,
        "shipments": 1,
        "shipment_rows": 1,
        "whatsapp_messages": 1,
        "whatsapp_rows": 1,
    }
    assert not verdict.passed


def test_one_dead_letter_fails_the_soak() -> None:
    observed = Observed(PREFIX)
    went_all_the_way(observed, 0)

    verdict = judge(facts(observed, 1, dead_letters={"dlq.orders": 1}))

    assert verdict.dead_lettered == 1 and not verdict.passed


def test_the_broker_postgres_and_every_service_are_harmed_once_inside_the_load() -> None:
    services = ("orders", "routing", "inventory", "shipping")

    faults = schedule(services, seconds=200)

    assert [f.name for f in faults] == ["kafka", "postgres", *services]
    assert all(0 < f.at_s < 200 for f in faults)
    assert [f.at_s for f in faults] == sorted(f.at_s for f in faults)
