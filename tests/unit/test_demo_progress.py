"""The demo's progress: counts per stage from the services' events, the one-line display, the example
journeys and the work handed to the returns desk."""

from __future__ import annotations

import random
from typing import Any

from contracts import topics
from deploy.local import demo_data
from deploy.local.demo_desk import Lively, wa_id
from deploy.local.demo_progress import AtWarehouse, Delivered, Progress, short


def sent(progress: Progress, *, cod: bool = False) -> tuple[dict[str, Any], str]:
    order = demo_data.make_order(progress.sent, random.Random(progress.sent), prepaid_only=not cod)
    if cod:
        order["payment"] |= {
            "method": "cod",
            "status": "pending",
            "gateway": None,
            "gateway_payment_id": None,
        }
    progress.sent_order(order)
    order_id = f"ORD-{order['channel_order_id']}"
    progress.apply(
        topics.ORDERS_PLACED, {"order_id": order_id, "channel_order_id": order["channel_order_id"]}
    )
    return order, order_id


def status(progress: Progress, order_id: str, to: str) -> list[Any]:
    return progress.apply(topics.ORDERS_STATUS_CHANGED, {"order_id": order_id, "to_status": to})


def shipment(progress: Progress, order_id: str, status: str, **extra: Any) -> list[Any]:
    event = {"order_id": order_id, "shipment_id": "SHP-1", "status": status, **extra}
    return progress.apply(topics.SHIPPING_SHIPMENT_UPDATED, event)


def test_a_prepaid_order_counts_once_at_each_stage_to_delivered_after_an_ndr() -> None:
    progress = Progress()
    order, order_id = sent(progress)
    progress.apply(
        topics.SHIPPING_SHIPMENT_CREATED,
        {"order_id": order_id, "awb": "1496001", "courier": "xpressbees", "warehouse_code": "GGN1"},
    )
    for to in ("CONFIRMED", "SHIPPED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERY_FAILED"):
        status(progress, order_id, to)
    shipment(progress, order_id, "NDR", attempt=1, ndr_reason="customer_unavailable")
    shipment(progress, order_id, "NDR", attempt=1, ndr_reason="customer_unavailable")  # sent twice
    shipment(progress, order_id, "DELIVERED", attempt=2)
    work = status(progress, order_id, "DELIVERED")

    c = progress.counts
    assert (progress.sent, c["placed"], c["confirmed"], c["shipped"], c["ndr"], c["delivered"]) == (
        1,
        1,
        1,
        1,
        1,
        1,
    )
    assert work == [Delivered(order_id, tuple((x["sku"], x["quantity"]) for x in order["lines"]), cod=False)]
    line = progress.journeys[order["channel_order_id"]].line()
    assert "Xpressbees AWB 1496001 → NDR (customer unavailable) → delivered on attempt 2" in line


def test_events_of_other_orders_on_the_same_topics_are_not_counted() -> None:
    progress = Progress()
    sent(progress)
    status(progress, "ORD-SOMEONE-ELSES", "DELIVERED")
    progress.apply(topics.ORDERS_PLACED, {"order_id": "ORD-X", "channel_order_id": "NOT-OURS"})
    assert progress.counts["delivered"] == 0 and progress.counts["placed"] == 1


def test_an_event_that_beats_orders_placed_is_counted_once_the_order_is_known() -> None:
    progress = Progress()
    order = demo_data.make_order(2, random.Random(3))
    progress.sent_order(order)
    status(progress, "ORD-EARLY", "CONFIRMED")
    assert progress.counts["confirmed"] == 0
    progress.apply(
        topics.ORDERS_PLACED, {"order_id": "ORD-EARLY", "channel_order_id": order["channel_order_id"]}
    )
    assert progress.counts["confirmed"] == 1


def test_a_cod_order_declined_on_whatsapp_is_cancelled_not_waiting() -> None:
    progress = Progress()
    order, order_id = sent(progress, cod=True)
    status(progress, order_id, "PENDING_COD_CONFIRMATION")
    assert progress.waiting() == {"COD to confirm": 1}
    progress.apply(
        topics.NOTIFICATIONS_CUSTOMER_REPLIED,
        {"order_id": order_id, "choice": "cod_cancel", "channel": "whatsapp"},
    )
    status(progress, order_id, "CANCELLED")
    assert (progress.counts["cod_cancel"], progress.counts["cancelled"]) == (1, 1)
    assert progress.waiting() == {}
    assert "COD declined on WhatsApp → cancelled" in progress.journeys[order["channel_order_id"]].line()


def test_a_return_reaching_the_warehouse_goes_to_the_desk_then_counts_as_refunded() -> None:
    progress = Progress()
    order, order_id = sent(progress)
    status(progress, order_id, "DELIVERED")
    progress.apply(
        topics.RETURNS_REQUESTED, {"order_id": order_id, "return_id": "RET-1", "status": "REQUESTED"}
    )
    assert shipment(progress, order_id, "PICKED_UP", return_id="RET-1") == []
    [work] = shipment(progress, order_id, "DELIVERED", return_id="RET-1")
    assert isinstance(work, AtWarehouse) and (work.return_id, work.kind) == ("RET-1", "return")
    assert progress.counts["delivered"] == 1, "the reverse pickup's delivery is not the order's"
    progress.apply(
        topics.RETURNS_UPDATED, {"order_id": order_id, "return_id": "RET-1", "status": "RESTOCKED"}
    )
    progress.apply(
        topics.RETURNS_REFUNDED,
        {"order_id": order_id, "return_id": "RET-1", "amount_paise": 69800, "refund_mode": "gateway_refund"},
    )
    c = progress.counts
    assert (c["return"], c["restocked"], c["refunded"]) == (1, 1, 1)
    assert (
        "delivered → return RET-1 → received, QC passed, restocked → refunded ₹698 (Razorpay)"
        in progress.journeys[order["channel_order_id"]].line()
    )


def test_an_rto_record_at_the_desk_is_handed_over_once() -> None:
    progress = Progress()
    _, order_id = sent(progress, cod=True)
    status(progress, order_id, "RTO_INITIATED")
    status(progress, order_id, "RTO_DELIVERED")
    event = {
        "order_id": order_id,
        "return_id": "RET-R",
        "status": "APPROVED",
        "kind": "rto",
        "lines": [{"sku": "TEA-ASSAM-250", "quantity": 2}],
    }
    [work] = progress.apply(topics.RETURNS_UPDATED, event)
    assert work == AtWarehouse("RET-R", order_id, (("TEA-ASSAM-250", 2),), "rto")
    assert progress.apply(topics.RETURNS_UPDATED, event | {"status": "RECEIVED"}) == []
    progress.apply(topics.RETURNS_REFUNDED, {"order_id": order_id, "return_id": "RET-R", "amount_paise": 100})
    c = progress.counts
    assert (c["rto"], c["shipped"], c["return"], c["refunded"], c["rto_refunded"]) == (1, 1, 0, 0, 1)


def test_the_progress_line_names_every_stage_and_fits_120_columns_after_ten_thousand_orders() -> None:
    progress = Progress()
    progress.sent, progress.whatsapp = 9_999, 41_234
    progress.counts.update(
        placed=9_990, confirmed=9_100, shipped=9_000, delivered=8_600, ndr=1_000, rto=300, refunded=400
    )
    progress.counts["return"] = 430
    line = progress.line(rate=5.0, elapsed=2_000)
    assert line.startswith("sent 9999 │ confirmed 9100 │ shipped 9000 │ delivered 8600 │ NDR 1000")
    assert "returns/refunds 430/400 │ WhatsApp 41k" in line
    assert len(line) <= 120 and "\n" not in line


def test_the_progress_line_keeps_the_rate_and_clock_when_they_fit() -> None:
    progress = Progress()
    progress.sent = 12
    assert progress.line(rate=4.96, elapsed=125).endswith("WhatsApp 0  5.0/s 2m05s")


def test_counts_are_shortened_to_four_characters() -> None:
    assert [short(n) for n in (0, 9_999, 10_000, 123_456, 1_234_567)] == ["0", "9999", "10k", "123k", "1.2M"]


def test_the_example_is_the_journey_that_went_furthest() -> None:
    progress = Progress()
    _, plain = sent(progress)
    _, far = sent(progress, cod=True)
    status(progress, far, "DELIVERED")
    status(progress, plain, "CONFIRMED")
    for journey in progress.journeys.values():
        journey.updated -= 10  # both settled a while ago
    example = progress.example(set())
    assert example is not None and example.order_id == far
    then = progress.example({far})
    assert then is not None and then.order_id == plain


def test_whatsapp_numbers_are_matched_in_e164_whatever_the_channel_sent() -> None:
    assert {wa_id(p) for p in ("+919812345678", "9812345678", "09812345678", "+91 98123 45678")} == {
        "919812345678"
    }


def test_the_lively_world_can_be_tuned_from_the_environment(monkeypatch: Any) -> None:
    monkeypatch.setenv("DEMO_NDR", "0.3")
    monkeypatch.setenv("DEMO_STEP_MS", "500")
    lively = Lively.from_env()
    assert (lively.ndr, lively.step_ms, lively.returns) == (0.3, 500, Lively().returns)


def test_examples_take_turns_between_kinds_of_story() -> None:
    progress = Progress()
    _, bumpy = sent(progress)
    _, returned = sent(progress)
    for order_id in (bumpy, returned):
        status(progress, order_id, "DELIVERED")
    shipment(progress, bumpy, "NDR", attempt=1, ndr_reason="customer_unavailable")
    progress.apply(
        topics.RETURNS_REQUESTED, {"order_id": returned, "return_id": "RET-2", "status": "REQUESTED"}
    )
    for journey in progress.journeys.values():
        journey.updated -= 10
    first, second = progress.example(set(), turn=0), progress.example(set(), turn=1)
    assert first is not None and (first.order_id, first.kind()) == (bumpy, "ndr")
    assert second is not None and (second.order_id, second.kind()) == (returned, "return")
