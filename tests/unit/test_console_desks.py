"""The console's desks decide purely: which NDR parcels a filter keeps, what an NDR answer tells
shipping, which returns wait for receipt, QC or a refund and when that refund is late, and the
field named when an operator's input is not one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from contracts import NdrReason, ReturnStatus, examples
from services.console import store
from services.console.domain.desks import (
    NDR_BUCKETS,
    ReturnsDesk,
    bucket_counts,
    bucket_of,
    ndr_filter,
    ndr_instruction,
    ndr_parcels,
    refund_due,
    refund_late,
    returns_desk,
)
from services.console.domain.view import OrderView, ReturnView, ShipmentView, apply

TODAY = date(2026, 12, 6)
NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def test_every_courier_ndr_reason_is_in_exactly_one_bucket() -> None:
    seen = [r for _, reasons in NDR_BUCKETS.values() for r in reasons]
    assert sorted(seen) == sorted(NdrReason)
    assert bucket_of("wrong_or_incomplete_address") == "address"
    assert bucket_of("cash_not_ready") == "payment"
    assert bucket_of(None) == "other"


def test_the_desk_filter_reads_rupees_as_paise_and_names_each_bad_field() -> None:
    f, problems = ndr_filter(
        {"courier": " Delhivery ", "bucket": "address", "attempt": "2", "payment": "cod"}
        | {"min_value": "1,499.5", "max_value": "₹2000"}
    )
    assert problems == []
    assert (f.courier, f.bucket, f.attempt, f.payment) == ("delhivery", "address", 2, "cod")
    assert (f.min_paise, f.max_paise) == (149950, 200000)
    assert f.reasons == ["wrong_or_incomplete_address", "out_of_delivery_area"]

    _, problems = ndr_filter(
        {"bucket": "weather", "attempt": "9", "payment": "upi", "min_value": "12.345", "max_value": "-1"}
    )
    assert [field for field, _ in problems] == ["bucket", "attempt", "payment", "min_value", "max_value"]
    _, problems = ndr_filter({"min_value": "500", "max_value": "100"})
    assert problems == [("max_value", "is below min_value")]


def test_an_empty_filter_keeps_everything() -> None:
    f, problems = ndr_filter({})
    assert problems == []
    assert f.reasons is None and f.attempt is None and f.search is None and f.min_paise is None


def parcel(shipment_id: str, **kw: Any) -> ShipmentView:
    fields: dict[str, Any] = {
        "shipment_id": shipment_id,
        "warehouse_code": "BOM1",
        "courier": "delhivery",
        "awb": f"AWB-{shipment_id}",
        "status": "NDR",
        "ndr_attempts": (1,),
        "ndr_reason": "customer_unavailable",
        "location": None,
    }
    return ShipmentView(**(fields | kw))


def order(*shipments: ShipmentView) -> OrderView:
    return OrderView(
        order_id="ORD-1",
        first_seen_at=NOW,
        updated_at=NOW,
        channel_order_id="SHP-1",
        customer_name="Asha",
        phone="+919812345678",
        city="Jaipur",
        pincode="302001",
        payment_method="cod",
        total_paise=69800,
        shipments=shipments,
    )


def test_only_parcels_in_ndr_that_pass_courier_reason_and_attempt_are_listed() -> None:
    row = order(
        parcel("S1"),
        parcel("S2", status="DELIVERED"),
        parcel("S3", courier="xpressbees", ndr_reason="refused", ndr_attempts=(1, 2)),
        parcel("S4", ndr_attempts=(1, 2, 3), ndr_reason=None),
    )
    every = ndr_parcels(row, ndr_filter({})[0])
    assert [p.shipment_id for p in every] == ["S1", "S3", "S4"]
    assert [p.bucket for p in every] == ["customer", "refused", "other"]
    assert every[0].cod and every[0].attempts == 1

    def ids(**params: str) -> list[str]:
        return [p.shipment_id for p in ndr_parcels(row, ndr_filter(params)[0])]

    assert ids(courier="xpressbees") == ["S3"]
    assert ids(bucket="refused") == ["S3"]
    assert ids(attempt="1") == ["S1"]
    assert ids(attempt="2") == ["S3"]
    assert ids(attempt="3") == ["S4"]  # the last choice is "3 or more"
    assert ids(courier="delhivery", bucket="other") == ["S4"]


def test_a_reattempt_may_name_a_day_that_is_not_past() -> None:
    assert ndr_instruction({"action": "reattempt"}, today=TODAY) == ({"action": "reattempt"}, [])
    assert ndr_instruction({"action": "reattempt", "reattempt_on": "2026-12-08"}, today=TODAY) == (
        {"action": "reattempt", "reattempt_on": "2026-12-08"},
        [],
    )
    assert ndr_instruction({"action": "reattempt", "reattempt_on": "08/12/2026"}, today=TODAY) == (
        {"action": "reattempt", "reattempt_on": "2026-12-08"},
        [],
    )
    assert ndr_instruction({"action": "reattempt", "reattempt_on": "05/12/2026"}, today=TODAY) == (
        None,
        [("reattempt_on", "05/12/2026 is in the past")],
    )
    body, problems = ndr_instruction({"action": "reattempt", "reattempt_on": "next week"}, today=TODAY)
    assert body is None and problems[0][0] == "reattempt_on"


def test_a_new_address_needs_its_line_city_state_and_a_six_digit_pincode() -> None:
    form = {
        "action": "new_address",
        "new_address.line1": " 14 MI Road ",
        "new_address.city": "Jaipur",
        "new_address.state": "Rajasthan",
        "new_address.pincode": "302001",
    }
    body, problems = ndr_instruction(form, today=TODAY)
    assert problems == []
    assert body == {
        "action": "new_address",
        "new_address": {
            "line1": "14 MI Road",
            "line2": None,
            "landmark": None,
            "city": "Jaipur",
            "state": "Rajasthan",
            "pincode": "302001",
        },
    }
    body, problems = ndr_instruction(
        form | {"new_address.line1": "", "new_address.pincode": "30200"}, today=TODAY
    )
    assert body is None
    assert problems == [
        ("new_address.line1", "required"),
        ("new_address.pincode", "'30200' is not a six-digit pincode"),
    ]


@pytest.mark.parametrize("action", ["", "deliver_anyway", "new_phone"])
def test_an_answer_the_desk_does_not_offer_is_refused_naming_the_action(action: str) -> None:
    body, problems = ndr_instruction({"action": action}, today=TODAY)
    assert body is None and [f for f, _ in problems] == ["action"]


def test_rto_needs_nothing_more() -> None:
    assert ndr_instruction({"action": "rto", "reattempt_on": "1999-01-01"}, today=TODAY) == (
        {"action": "rto"},
        [],
    )


def returned(return_id: str, status: str, **kw: Any) -> ReturnView:
    return ReturnView(return_id, status, (("TEA-ASSAM-250", 2, "damaged"),), **kw)


def desk_of(*returns: ReturnView, now: datetime = NOW) -> ReturnsDesk:
    order = OrderView(order_id="ORD-1", first_seen_at=NOW, updated_at=NOW, channel_order_id="SHP-1")
    return returns_desk([(order, r) for r in returns], now=now, sla_days=3)


def test_the_returns_desk_sorts_parcels_to_receive_to_qc_and_refunds_pending() -> None:
    desk = desk_of(
        returned("R-LATE", "PICKED_UP", requested_at=NOW - timedelta(days=1)),
        returned("R-EARLY", "PICKUP_SCHEDULED", requested_at=NOW - timedelta(days=2)),
        returned("R-QC", "RECEIVED", received_at=NOW - timedelta(hours=1)),
        returned("R-PAY", "REFUND_PENDING", qc_at=NOW - timedelta(days=1)),
        returned("R-DONE", "REFUNDED", qc_at=NOW - timedelta(days=1), refunded=True),
        returned("R-SWAP", "EXCHANGE_PLACED", qc_at=NOW - timedelta(days=1)),
        returned("R-RTO", "REFUND_PENDING", kind="rto", qc_at=NOW - timedelta(days=1)),
    )
    assert [d.ret.return_id for d in desk.to_receive] == ["R-EARLY", "R-LATE"]  # oldest request first
    assert [d.ret.return_id for d in desk.to_qc] == ["R-QC"]
    assert [d.ret.return_id for d in desk.refunds] == ["R-PAY"]  # an RTO is not a customer's refund
    [pay] = desk.refunds
    assert pay.refund_due == NOW + timedelta(days=2) and not pay.overdue


def test_a_refund_is_overdue_once_its_due_time_passes_or_returns_says_so_and_no_longer_once_paid() -> None:
    qc = NOW - timedelta(days=3)
    assert refund_due(returned("R", "REFUND_PENDING", qc_at=qc), sla_days=3) == NOW
    assert refund_due(returned("R", "RECEIVED"), sla_days=3) is None
    assert not refund_late(
        returned("R", "REFUND_PENDING", qc_at=qc), now=NOW - timedelta(seconds=1), sla_days=3
    )
    assert refund_late(returned("R", "REFUND_PENDING", qc_at=qc), now=NOW, sla_days=3)
    # returns' own SLA alert counts even when the console's clock or setting says otherwise
    alerted = returned("R", "REFUND_PENDING", qc_at=NOW, sla_breached=True)
    assert refund_late(alerted, now=NOW, sla_days=30)
    assert not refund_late(replace(alerted, refunded=True), now=NOW + timedelta(days=9), sla_days=3)

    desk = desk_of(
        returned("R-SOON", "REFUND_PENDING", qc_at=NOW - timedelta(days=2)),
        returned("R-LATE", "REFUND_PENDING", qc_at=NOW - timedelta(days=4)),
        returned("R-ALERTED", "QUARANTINED", qc_at=NOW, sla_breached=True),
    )
    assert [(d.ret.return_id, d.overdue) for d in desk.refunds] == [
        ("R-LATE", True),
        ("R-SOON", False),
        ("R-ALERTED", True),
    ]


def test_the_desk_times_of_a_return_are_the_earliest_said_whatever_order_the_topics_arrive_in() -> None:
    requested = examples.return_requested()
    received = examples.return_updated().model_copy(
        update={"status": ReturnStatus.RECEIVED, "occurred_at": requested.occurred_at + timedelta(days=2)}
    )
    qc = received.model_copy(
        update={"status": ReturnStatus.QC_PASSED, "occurred_at": received.occurred_at + timedelta(hours=1)}
    )
    pending = qc.model_copy(
        update={"status": ReturnStatus.REFUND_PENDING, "occurred_at": qc.occurred_at + timedelta(minutes=1)}
    )
    refunded = examples.return_refunded().model_copy(
        update={"occurred_at": qc.occurred_at + timedelta(days=1)}
    )
    events: list[Any] = [examples.order_placed(), requested, received, qc, pending, refunded]
    expected = None
    for order in ([0, 1, 2, 3, 4, 5], [0, 5, 2, 3, 1, 4], [5, 2, 3, 4, 0, 1]):
        view = None
        for i in order:
            view = apply(view, events[i])
        assert view is not None
        [ret] = view.returns
        assert (ret.requested_at, ret.received_at, ret.qc_at, ret.refunded_at) == (
            requested.occurred_at,
            received.occurred_at,
            qc.occurred_at,
            refunded.occurred_at,
        )
        assert ret.status == "REFUND_PENDING" and ret.refunded
        expected = expected or view
        assert view == expected


def test_the_desk_counts_parcels_per_bucket_every_bucket_shown() -> None:
    counts = bucket_counts({"refused": 2, "customer_unavailable": 3, "phone_unreachable": 1, None: 1})
    assert counts == {"customer": 4, "address": 0, "payment": 0, "refused": 2, "other": 1}


def test_a_refund_the_gateway_refused_offers_a_retry_until_the_money_goes_out() -> None:
    qc = examples.return_updated().model_copy(update={"status": ReturnStatus.REFUND_PENDING})
    failed = qc.model_copy(update={"alert": "refund_failed", "note": "refund RF-1 failed: bank offline"})
    refunded = examples.return_refunded().model_copy(update={"occurred_at": failed.occurred_at})
    view = None
    for event in (examples.order_placed(), qc, failed):
        view = apply(view, event)
    assert view is not None
    [ret] = view.returns
    assert ret.refund_failure == "refund RF-1 failed: bank offline"
    [pending] = returns_desk([(view, ret)], now=NOW, sla_days=3).refunds
    assert pending.retry
    columns = [c.strip() for c in store._COLUMNS.split(",")]
    stored = store.view_of(dict(zip(columns, store._row(view), strict=True)))  # type: ignore[arg-type]
    assert stored == view

    paid = apply(view, refunded)
    assert not returns_desk([(paid, paid.returns[0])], now=NOW, sla_days=3).refunds
    assert apply(apply(apply(None, refunded), qc), failed) == apply(apply(apply(None, qc), failed), refunded)
