"""Routing holds back an order no courier delivers to (ADR 0311): by pincode and payment method,
and never on no knowledge at all; a warehouse is a candidate only if one courier picks up there and
delivers to the pincode for the payment (ADR 0410)."""

from contracts import OrderLine
from services.routing.domain import Order, Served, Warehouse, carriers, no_courier, plan, unserved_warehouses


def test_a_pincode_no_courier_serves_has_no_courier() -> None:
    nowhere = Served(known=True)
    assert no_courier("302017", cod=False, served=nowhere) == "no courier delivers to pincode 302017"
    assert no_courier("302017", cod=True, served=nowhere) == "no courier delivers to pincode 302017"


def test_cash_on_delivery_needs_a_courier_that_collects_there() -> None:
    prepaid_only = Served(known=True, prepaid=True, cod=False)
    assert no_courier("302017", cod=False, served=prepaid_only) is None
    assert no_courier("302017", cod=True, served=prepaid_only) == (
        "no courier delivers cash on delivery to pincode 302017 (prepaid only)"
    )


def test_a_served_pincode_and_no_serviceability_data_at_all_hold_nothing() -> None:
    assert no_courier("302001", cod=True, served=Served(known=True, prepaid=True, cod=True)) is None
    assert no_courier("302017", cod=True, served=Served(known=False)) is None


def test_an_order_the_marketplace_carries_needs_no_courier_of_ours() -> None:
    nowhere = Served(known=True)
    assert no_courier("302017", cod=False, served=nowhere, by_marketplace=True) is None


# warehouse × destination pairs (ADR 0410) --------------------------------------------------------

BOM1 = Warehouse("BOM1", "Bhiwandi", "421302", 19.3171, 73.0486)
BLR1 = Warehouse("BLR1", "Bengaluru", "560058", 13.02058, 77.51902)
GGN1 = Warehouse("GGN1", "Gurugram", "122001", 28.45987, 77.02498)
WAREHOUSES = [BOM1, BLR1, GGN1]

# Only Xpressbees delivers to 302019, and it picks up in Bengaluru alone; Delhivery picks up
# everywhere but does not deliver there.
JAIPUR_VIA_BENGALURU = Served(
    known=True,
    prepaid=frozenset({"xpressbees"}),
    cod=frozenset({"xpressbees"}),
    pickup={"560058": frozenset({"xpressbees", "delhivery"}), "421302": frozenset({"delhivery"})},
)


def test_a_warehouse_is_served_only_by_a_courier_that_picks_up_there_and_delivers_to_the_pincode() -> None:
    assert carriers(JAIPUR_VIA_BENGALURU, warehouse_pincode="560058", cod=False) == {"xpressbees"}
    assert carriers(JAIPUR_VIA_BENGALURU, warehouse_pincode="421302", cod=False) == frozenset()
    assert unserved_warehouses("302019", cod=True, warehouses=WAREHOUSES, served=JAIPUR_VIA_BENGALURU) == {
        "BOM1": "no courier picks up at 421302 and delivers cash on delivery to 302019",
        "GGN1": "no courier picks up at 122001 and delivers cash on delivery to 302019",
    }
    assert no_courier("302019", cod=True, served=JAIPUR_VIA_BENGALURU, warehouses=WAREHOUSES) is None


def test_a_pincode_whose_couriers_pick_up_at_no_warehouse_has_no_courier() -> None:
    nowhere = Served(
        known=True, prepaid=frozenset({"xpressbees"}), pickup={"560058": frozenset({"delhivery"})}
    )

    assert no_courier("302019", cod=False, served=nowhere, warehouses=WAREHOUSES) == (
        "no courier that delivers to pincode 302019 picks up at any warehouse "
        "(BOM1 421302, BLR1 560058, GGN1 122001)"
    )


def test_the_pair_needs_one_courier_for_both_ends_and_the_payment() -> None:
    # Xpressbees picks up in Bengaluru but only delivers prepaid; Delhivery collects cash in Jaipur
    # but does not pick up in Bengaluru: no COD pair from Bengaluru.
    split = Served(
        known=True,
        prepaid=frozenset({"xpressbees", "delhivery"}),
        cod=frozenset({"delhivery"}),
        pickup={"560058": frozenset({"xpressbees"})},
    )

    assert unserved_warehouses("302019", cod=False, warehouses=[BLR1], served=split) == {}
    assert list(unserved_warehouses("302019", cod=True, warehouses=[BLR1], served=split)) == ["BLR1"]


def test_a_courier_whose_data_says_nothing_of_pickup_picks_up_anywhere_and_unknown_holds_nothing() -> None:
    no_pickup_data = Served(
        known=True, prepaid=frozenset({"shiprocket"}), pickup_anywhere=frozenset({"shiprocket"})
    )

    assert unserved_warehouses("302019", cod=False, warehouses=WAREHOUSES, served=no_pickup_data) == {}
    assert unserved_warehouses("302019", cod=False, warehouses=WAREHOUSES, served=Served(known=False)) == {}
    assert (
        unserved_warehouses(
            "302019", cod=False, warehouses=WAREHOUSES, served=JAIPUR_VIA_BENGALURU, by_marketplace=True
        )
        == {}
    )


def test_a_warehouse_no_courier_carries_from_is_no_candidate_and_every_plan_says_why() -> None:
    order = Order(
        lines=[OrderLine(sku="TEA-ASSAM-250", quantity=1, unit_price_paise=34900)], customer_pincode="302019"
    )
    stock = {("TEA-ASSAM-250", wh.code): 5 for wh in WAREHOUSES}
    unserved = unserved_warehouses("302019", cod=False, warehouses=WAREHOUSES, served=JAIPUR_VIA_BENGALURU)

    plans, notes = plan(order=order, warehouses=WAREHOUSES, available=stock, unserved=unserved)

    assert [[s.warehouse_code for s in p.shipments] for p in plans] == [["BLR1"]]
    why = "GGN1 excluded: no courier picks up at 122001 and delivers prepaid to 302019"
    assert why in plans[0].reasons
    assert why in notes
