"""Shipping decisions: one parcel per warehouse, COD collected once, the shipment machine forward-only."""

import itertools

from contracts import Allocation, OrderLine, Payment, PaymentMethod, PaymentStatus, ShipmentStatus
from contracts.examples import order_confirmed
from services.shipping import domain

S = ShipmentStatus


def split_order(*, cod: bool):
    """Tea from Bhiwandi, a kurta from Bengaluru and Gurugram: one order, three warehouses."""
    payment = (
        Payment(method=PaymentMethod.COD, status=PaymentStatus.COD_CONFIRMED, amount_paise=250_000)
        if cod
        else Payment(
            method=PaymentMethod.UPI,
            status=PaymentStatus.CAPTURED,
            gateway="razorpay",
            gateway_payment_id="pay_1",
            amount_paise=250_000,
        )
    )
    return order_confirmed().model_copy(
        update={
            "lines": [
                OrderLine(sku="TEA-ASSAM-250", quantity=2, unit_price_paise=35_000),
                OrderLine(sku="KURTA-M", quantity=3, unit_price_paise=60_000),
            ],
            "total_paise": 250_000,
            "payment": payment,
            "allocations": [
                Allocation(warehouse_code="BHW", sku="TEA-ASSAM-250", quantity=2),
                Allocation(warehouse_code="GGN", sku="KURTA-M", quantity=1),
                Allocation(warehouse_code="BLR", sku="KURTA-M", quantity=2),
            ],
        }
    )


def test_allocations_from_three_warehouses_make_three_shipments():
    plans = domain.plan_shipments(split_order(cod=False))

    assert [p.warehouse_code for p in plans] == ["BHW", "BLR", "GGN"]
    assert [[(line.sku, line.quantity) for line in p.lines] for p in plans] == [
        [("TEA-ASSAM-250", 2)],
        [("KURTA-M", 2)],
        [("KURTA-M", 1)],
    ]
    assert [p.value_paise for p in plans] == [70_000, 120_000, 60_000]


def test_two_allocations_of_one_warehouse_travel_in_one_parcel():
    order = order_confirmed().model_copy(
        update={
            "allocations": [
                Allocation(warehouse_code="BLR1", sku="TEA-ASSAM-250", quantity=1),
                Allocation(warehouse_code="BLR1", sku="TEA-ASSAM-250", quantity=1),
            ]
        }
    )

    (plan,) = domain.plan_shipments(order)

    assert [(line.sku, line.quantity) for line in plan.lines] == [("TEA-ASSAM-250", 2)]


def test_cod_customer_pays_the_order_total_once_across_parcels():
    plans = domain.plan_shipments(split_order(cod=True))

    assert sum(p.cod_amount_paise for p in plans) == 250_000
    assert all(p.cod_amount_paise > 0 for p in plans)


def test_single_parcel_cod_collects_the_whole_total():
    (plan,) = domain.plan_shipments(order_confirmed())

    assert plan.cod_amount_paise == 69_800


def test_prepaid_parcels_collect_nothing_on_delivery():
    assert all(p.cod_amount_paise == 0 for p in domain.plan_shipments(split_order(cod=False)))


def test_a_redelivered_order_books_under_the_same_shipment_id():
    first = domain.shipment_id_for("ORD-1", "BLR")

    assert first == domain.shipment_id_for("ORD-1", "BLR")
    assert first.startswith("SHP-")
    assert first != domain.shipment_id_for("ORD-1", "BHW")


def test_booking_request_weighs_the_parcel_by_its_units():
    order = split_order(cod=True)
    plan = domain.plan_shipments(order)[1]

    request = domain.booking_request(order, plan, shipment_id="SHP-X", unit_weight_grams=400)

    assert request.reference == "SHP-X"
    assert request.pickup_location == "BLR"
    assert request.weight_grams == 800
    assert request.is_cod


def test_shipment_moves_forward_through_the_courier_scans():
    path = [
        S.CREATED,
        S.AWB_ASSIGNED,
        S.PICKED,
        S.PACKED,
        S.MANIFESTED,
        S.PICKED_UP,
        S.IN_TRANSIT,
        S.OUT_FOR_DELIVERY,
        S.DELIVERED,
    ]

    for current, target in itertools.pairwise(path):
        assert domain.advance(current, target) is target


def test_a_late_in_transit_scan_does_not_undo_delivery():
    assert domain.advance(S.DELIVERED, S.IN_TRANSIT) is None
    assert domain.advance(S.OUT_FOR_DELIVERY, S.PICKED_UP) is None


def test_the_same_scan_twice_changes_nothing():
    assert domain.advance(S.IN_TRANSIT, S.IN_TRANSIT) is None


def test_a_missed_out_for_delivery_scan_still_lets_the_parcel_be_delivered():
    assert domain.advance(S.IN_TRANSIT, S.DELIVERED) is S.DELIVERED


def test_after_an_ndr_the_courier_may_go_out_for_delivery_again():
    assert domain.advance(S.OUT_FOR_DELIVERY, S.NDR) is S.NDR
    assert domain.advance(S.NDR, S.OUT_FOR_DELIVERY) is S.OUT_FOR_DELIVERY


def test_a_parcel_in_transit_can_no_longer_be_cancelled():
    assert domain.advance(S.IN_TRANSIT, S.CANCELLED) is None
    assert domain.advance(S.MANIFESTED, S.CANCELLED) is S.CANCELLED


def test_every_shipment_status_has_a_row_in_the_machine():
    assert set(domain.TRANSITIONS) == set(ShipmentStatus)
