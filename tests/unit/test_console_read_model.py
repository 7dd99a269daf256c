"""The console's read model: one order folded from the events of six services, the same whatever
order the topics arrive in, and stored and read back unchanged."""

from __future__ import annotations

import random
from datetime import timedelta

from contracts import (
    Event,
    OrderStatus,
    OrderStatusChanged,
    PaymentEventStatus,
    ReturnStatus,
    ShipmentStatus,
    examples,
)
from contracts.examples import order_confirmed
from services.console import store
from services.console.domain.view import MILESTONES, OrderView, apply, timeline_entry


def fold(events: list[Event]) -> OrderView:
    view = None
    for event in events:
        view = apply(view, event)
    assert view is not None
    return view


def story() -> list[Event]:
    """Asha's COD order: placed, waiting for COD, confirmed by ops:asha, booked, NDR twice (one
    courier update sent twice), delivered, a return asked for, QC, refunded."""
    placed = examples.order_placed()
    waiting = examples.order_status_changed()
    confirmed = waiting.model_copy(
        update={
            "from_status": OrderStatus.PENDING_COD_CONFIRMATION,
            "to_status": OrderStatus.CONFIRMED,
            "reason": "COD confirmed by hand",
            "actor": "ops:asha",
            "changed_at": waiting.changed_at + timedelta(minutes=5),
        }
    )
    created = examples.shipment_created()
    ndr = examples.shipment_updated()
    at = ndr.occurred_at
    out = ndr.model_copy(update={"status": ShipmentStatus.OUT_FOR_DELIVERY, "ndr_reason": None, "attempt": 2})
    out = out.model_copy(update={"occurred_at": at + timedelta(hours=20)})
    delivered = out.model_copy(
        update={"status": ShipmentStatus.DELIVERED, "occurred_at": at + timedelta(hours=22)}
    )
    payment = examples.payment_updated()
    requested = examples.return_requested()
    qc = examples.return_updated()
    refunded = examples.return_refunded()
    return [placed, waiting, confirmed, payment, created, ndr, ndr, out, delivered, requested, qc, refunded]


def test_a_cod_order_is_folded_into_one_queue_row_with_its_parcel_return_and_refund() -> None:
    view = fold(story())
    assert (view.customer_name, view.city, view.channel) == ("Asha Verma", "Jaipur", "shopify")
    assert view.status == "CONFIRMED"
    assert view.payment_method == "cod"
    assert view.payment_status == examples.payment_updated().status.value
    [parcel] = view.shipments
    assert (parcel.status, parcel.awb) == ("DELIVERED", examples.shipment_created().awb)
    assert parcel.lines == (("TEA-ASSAM-250", 2),)
    assert view.ndr_count == 1, "the same NDR delivered twice by the courier is one failed attempt"
    assert view.shipment_status == "DELIVERED"
    [ret] = view.returns
    assert ret.status == ReturnStatus.QC_FAILED.value
    assert view.refunded_paise == examples.return_refunded().amount_paise
    assert set(view.milestones) == {
        "placed",
        "confirmed",
        "first_attempt",
        "delivered",
        "return_requested",
        "refunded",
    }
    assert set(view.milestones) <= set(MILESTONES)
    assert view.milestones["placed"] == examples.order_placed().placed_at


def test_any_interleaving_of_the_topics_folds_to_the_same_view() -> None:
    """Each topic keeps its own order (the key), but topics interleave anyhow, live and in a rebuild."""
    assert_any_interleaving_folds_alike(story())


def test_an_unroutable_order_later_reserved_and_an_overdue_refund_later_paid_fold_alike_in_any_order() -> (
    None
):
    failed = examples.inventory_reservation_failed().model_copy(update={"final": True})
    reserved = examples.inventory_reserved()
    reserved = reserved.model_copy(update={"occurred_at": failed.occurred_at + timedelta(hours=3)})
    alert = examples.return_updated().model_copy(update={"alert": "refund_sla_breached"})
    events = story()
    events[1:1] = [failed, reserved]
    events.insert(-1, alert)
    view = assert_any_interleaving_folds_alike(events)
    assert not view.unroutable and not view.refund_overdue

    late = fold([examples.order_placed(), failed])
    assert late.unroutable
    assert not fold([examples.order_placed(), reserved, failed]).unroutable  # reserved after it failed
    overdue = fold([examples.order_placed(), examples.return_requested(), alert])
    assert overdue.refund_overdue
    assert not fold([examples.order_placed(), examples.return_refunded(), alert]).refund_overdue


def assert_any_interleaving_folds_alike(events: list[Event]) -> OrderView:
    expected = fold(events)
    by_topic: dict[str, list[Event]] = {}
    for event in events:
        by_topic.setdefault(event.TOPIC, []).append(event)
    rng = random.Random(12)
    for _ in range(300):
        queues = {topic: list(items) for topic, items in by_topic.items()}
        shuffled = []
        while queues:
            topic = rng.choice(sorted(queues))
            shuffled.append(queues[topic].pop(0))
            if not queues[topic]:
                del queues[topic]
        assert fold(shuffled) == expected
    return expected


def test_a_status_change_heard_before_the_order_itself_is_not_undone_by_it() -> None:
    view = fold([examples.order_status_changed(), examples.order_placed()])
    assert view.status == OrderStatus.PENDING_COD_CONFIRMATION.value
    assert view.customer_name == "Asha Verma"
    assert view.sort_at == examples.order_placed().placed_at


def test_a_parcel_update_heard_before_its_creation_keeps_the_later_status() -> None:
    view = fold([examples.order_placed(), examples.shipment_updated(), examples.shipment_created()])
    [parcel] = view.shipments
    assert parcel.status == ShipmentStatus.NDR.value
    assert parcel.lines == (("TEA-ASSAM-250", 2),)


def test_a_parcel_booked_again_with_another_courier_keeps_it_however_the_topics_interleave() -> None:
    created = examples.shipment_created()
    rebooked = examples.shipment_updated().model_copy(update={"courier": "xpressbees"})
    assert created.courier != "xpressbees"
    for events in ([created, rebooked], [rebooked, created]):
        [parcel] = fold([examples.order_placed(), *events]).shipments
        assert parcel.courier == "xpressbees"


def test_a_reverse_pickup_is_not_one_of_the_orders_parcels() -> None:
    pickup = examples.shipment_created().model_copy(update={"shipment_id": "SHP-R1", "return_id": "RET-1"})
    view = fold([examples.order_placed(), pickup])
    assert view.shipments == ()


def test_a_payment_update_beats_the_payment_the_order_was_placed_with() -> None:
    captured = examples.payment_updated().model_copy(update={"status": PaymentEventStatus.COD_CONFIRMED})
    assert fold([captured, examples.order_placed()]).payment_status == "cod_confirmed"
    assert fold([examples.order_placed(), captured]).payment_status == "cod_confirmed"


def test_the_timeline_names_the_person_who_clicked() -> None:
    changed = examples.order_status_changed().model_copy(update={"actor": "ops:asha"})
    entry = timeline_entry(changed, "evt-1")
    assert entry is not None
    assert entry.actor == "ops:asha"
    assert "PLACED → PENDING_COD_CONFIRMATION" in entry.text


def test_a_view_is_stored_and_read_back_unchanged() -> None:
    view = fold(story())
    columns = [c.strip() for c in store._COLUMNS.split(",")]
    row = dict(zip(columns, store._row(view), strict=True))
    assert store.view_of(row) == view  # type: ignore[arg-type]
    text, digits = store.search_terms(view)
    assert "asha verma" in text and digits == "919812345678"
    assert row["milestones"]["placed"].startswith("2026-")
    assert row["ndr_open"] is False and row["awbs"] == [examples.shipment_created().awb]


def test_an_order_in_ndr_and_one_with_an_open_return_are_flagged_for_their_tabs() -> None:
    ndr = fold([examples.order_placed(), examples.shipment_created(), examples.shipment_updated()])
    columns = [c.strip() for c in store._COLUMNS.split(",")]
    row = dict(zip(columns, store._row(ndr), strict=True))
    assert row["ndr_open"] is True
    returned = fold([examples.order_placed(), examples.return_requested()])
    row = dict(zip(columns, store._row(returned), strict=True))
    assert row["return_open"] is True


def test_an_event_of_a_status_machine_the_console_does_not_know_still_moves_the_row() -> None:
    odd = OrderStatusChanged.model_validate(
        examples.order_status_changed().model_dump() | {"to_status": "RTO_INITIATED"}
    )
    view = fold([examples.order_placed(), odd])
    assert view.status == "RTO_INITIATED" and "rto" in view.milestones


def test_the_promised_dispatch_time_is_kept_from_the_confirmation_the_earliest_if_told_twice() -> None:
    confirmed = order_confirmed()
    assert confirmed.promised_dispatch_by is not None
    view = apply(None, confirmed)
    assert view.promised_dispatch_by == confirmed.promised_dispatch_by
    assert "confirmed" in view.milestones
    later = confirmed.model_copy(
        update={"promised_dispatch_by": confirmed.promised_dispatch_by + timedelta(days=1)}
    )
    assert apply(view, later).promised_dispatch_by == confirmed.promised_dispatch_by
    assert apply(apply(None, later), confirmed).promised_dispatch_by == confirmed.promised_dispatch_by
