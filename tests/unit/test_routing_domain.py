"""Routing's plans across real Indian pincodes, without Kafka or PostgreSQL (the zones and distances
they rank by are tested in test_geo.py)."""

from __future__ import annotations

from datetime import time

from contracts import OrderLine
from services.routing import domain
from services.routing.domain import Order, Policy, Rules, Today

BOM1 = domain.Warehouse("BOM1", "Bhiwandi", "421302", 19.3171, 73.0486)
BLR1 = domain.Warehouse("BLR1", "Bengaluru", "560058", 13.02058, 77.51902)
GGN1 = domain.Warehouse("GGN1", "Gurugram", "122001", 28.45987, 77.02498)
ALL = [BOM1, BLR1, GGN1]
TEA = OrderLine(sku="TEA-ASSAM-250", quantity=2, unit_price_paise=34900)
KURTA = OrderLine(sku="KURTA-M", quantity=1, unit_price_paise=129900)
CABLE = OrderLine(sku="CABLE-USBC", quantity=1, unit_price_paise=19900)


def jaipur(*lines: OrderLine, channel: str | None = None) -> Order:
    return Order(lines=list(lines) or [TEA], customer_pincode="302001", channel=channel)


def stocked(
    units: int, *codes: str, skus: tuple[str, ...] = ("TEA-ASSAM-250",)
) -> dict[tuple[str, str], int]:
    return {(sku, code): units for sku in skus for code in codes}


def codes(plan: object) -> list[str]:
    return [s.warehouse_code for s in plan.shipments]  # type: ignore[attr-defined]


# single-warehouse plans -------------------------------------------------------------------------


def test_jaipur_order_goes_to_gurugram_before_bhiwandi_when_both_have_stock() -> None:
    plans, _ = domain.plan(order=jaipur(), warehouses=ALL, available=stocked(10, "BOM1", "BLR1", "GGN1"))
    assert [codes(p) for p in plans] == [["GGN1"], ["BOM1"], ["BLR1"]]
    assert [p.rank for p in plans] == [1, 2, 3]
    assert "Gurugram (GGN1): within state or region (zone B)" in plans[0].reasons[0]
    assert "rest of India (zone D)" in plans[1].reasons[0]
    assert plans[0].score > plans[1].score


def test_guwahati_order_is_special_zone_from_every_warehouse_and_nearest_wins() -> None:
    plans, _ = domain.plan(
        order=Order(lines=[TEA], customer_pincode="781001"),
        warehouses=ALL,
        available=stocked(10, "BOM1", "BLR1", "GGN1"),
    )
    assert all("special" in p.reasons[0] for p in plans)
    assert codes(plans[0]) == ["GGN1"], "Gurugram is the nearest of three special-zone options"


def test_a_warehouse_without_enough_units_is_not_offered() -> None:
    stock = {("TEA-ASSAM-250", "GGN1"): 1, ("TEA-ASSAM-250", "BLR1"): 5}
    plans, _ = domain.plan(order=jaipur(), warehouses=ALL, available=stock)
    assert [codes(p) for p in plans] == [["BLR1"]]


def test_no_stock_anywhere_means_no_plan_and_says_what_is_short() -> None:
    plans, notes = domain.plan(order=jaipur(), warehouses=[BOM1, GGN1], available={})
    assert plans == []
    assert notes == ["TEA-ASSAM-250 needs 2; BOM1 has 0, GGN1 has 0"]


# splits ------------------------------------------------------------------------------------------


def test_one_warehouse_with_every_line_beats_a_nearer_split() -> None:
    stock = {**stocked(5, "BLR1", skus=("TEA-ASSAM-250", "KURTA-M")), **stocked(5, "GGN1")}
    plans, _ = domain.plan(order=jaipur(TEA, KURTA), warehouses=ALL, available=stock)
    assert codes(plans[0]) == ["BLR1"]
    assert [len(p.shipments) for p in plans] == [1, 2], "the split stays only as a fallback"


def test_order_is_split_across_the_fewest_warehouses_when_none_has_everything() -> None:
    stock = {("TEA-ASSAM-250", "GGN1"): 5, ("KURTA-M", "BOM1"): 5, ("CABLE-USBC", "BOM1"): 5}
    plans, _ = domain.plan(
        order=jaipur(TEA, KURTA, CABLE), warehouses=ALL, available=stock, policy=Policy(max_shipments=3)
    )
    assert [sorted(codes(p)) for p in plans] == [["BOM1", "GGN1"]]
    by_wh = {s.warehouse_code: [li.sku for li in s.lines] for s in plans[0].shipments}
    assert by_wh == {"GGN1": ["TEA-ASSAM-250"], "BOM1": ["KURTA-M", "CABLE-USBC"]}
    assert plans[0].reasons[0] == "no single warehouse has every line; split into 2 shipments"


def test_an_order_needing_three_parcels_is_not_split_when_the_maximum_is_two() -> None:
    stock = {("TEA-ASSAM-250", "GGN1"): 5, ("KURTA-M", "BOM1"): 5, ("CABLE-USBC", "BLR1"): 5}
    order = jaipur(TEA, KURTA, CABLE)
    assert domain.plan(order=order, warehouses=ALL, available=stock, policy=Policy(max_shipments=2))[0] == []
    plans, _ = domain.plan(order=order, warehouses=ALL, available=stock, policy=Policy(max_shipments=3))
    assert [len(p.shipments) for p in plans] == [3]


def test_no_split_when_splitting_is_switched_off() -> None:
    stock = {("TEA-ASSAM-250", "GGN1"): 5, ("KURTA-M", "BOM1"): 5}
    plans, notes = domain.plan(
        order=jaipur(TEA, KURTA), warehouses=ALL, available=stock, policy=Policy(max_shipments=1)
    )
    assert plans == []
    assert "splitting is switched off (max_shipments = 1)" in notes


def test_a_split_is_refused_when_one_parcel_would_be_worth_less_than_the_minimum() -> None:
    stock = {("TEA-ASSAM-250", "GGN1"): 5, ("CABLE-USBC", "BOM1"): 5}
    order = jaipur(TEA, CABLE)  # the cable parcel is worth ₹199
    plans, notes = domain.plan(
        order=order, warehouses=ALL, available=stock, policy=Policy(min_shipment_value_paise=20_000)
    )
    assert plans == []
    assert "1 split(s) refused: a shipment would be worth less than ₹200.00" in notes
    at_threshold, _ = domain.plan(
        order=order, warehouses=ALL, available=stock, policy=Policy(min_shipment_value_paise=19_900)
    )
    assert [sorted(codes(p)) for p in at_threshold] == [["BOM1", "GGN1"]]


def test_split_lines_go_to_the_nearer_warehouse_that_has_them() -> None:
    stock = {("TEA-ASSAM-250", "GGN1"): 5, ("TEA-ASSAM-250", "BOM1"): 5, ("KURTA-M", "BOM1"): 5}
    stock[("KURTA-M", "GGN1")] = 0
    plans, _ = domain.plan(order=jaipur(TEA, KURTA), warehouses=[BOM1, GGN1], available=stock)
    assert codes(plans[0]) == ["BOM1"], "Bhiwandi alone has both lines"
    stock[("TEA-ASSAM-250", "BOM1")] = 0
    plans, _ = domain.plan(order=jaipur(TEA, KURTA), warehouses=[BOM1, GGN1], available=stock)
    assert {s.warehouse_code: s.lines[0].sku for s in plans[0].shipments} == {
        "GGN1": "TEA-ASSAM-250",
        "BOM1": "KURTA-M",
    }


# capacity, cut-off, rules ------------------------------------------------------------------------


def test_a_warehouse_at_its_daily_capacity_is_left_out_and_the_explanation_says_so() -> None:
    full = domain.Warehouse("GGN1", "Gurugram", "122001", 28.45987, 77.02498, daily_capacity=300)
    plans, notes = domain.plan(
        order=jaipur(),
        warehouses=[BOM1, full],
        available=stocked(10, "BOM1", "GGN1"),
        today=Today(orders_taken={"GGN1": 300}),
    )
    assert [codes(p) for p in plans] == [["BOM1"]]
    assert notes == ["GGN1 excluded: took 300 of its 300 orders today"]
    plans, _ = domain.plan(
        order=jaipur(),
        warehouses=[BOM1, full],
        available=stocked(10, "BOM1", "GGN1"),
        today=Today(orders_taken={"GGN1": 299}),
    )
    assert codes(plans[0]) == ["GGN1"]


def test_after_its_cut_off_a_nearer_warehouse_ranks_below_one_that_still_ships_today() -> None:
    early = domain.Warehouse("GGN1", "Gurugram", "122001", 28.45987, 77.02498, cutoff=time(14, 0))
    stock = stocked(10, "BOM1", "GGN1")
    before, _ = domain.plan(
        order=jaipur(), warehouses=[BOM1, early], available=stock, today=Today(local_time=time(13, 59))
    )
    after, _ = domain.plan(
        order=jaipur(), warehouses=[BOM1, early], available=stock, today=Today(local_time=time(14, 1))
    )
    assert codes(before[0]) == ["GGN1"]
    assert [codes(p) for p in after] == [["BOM1"], ["GGN1"]]
    assert "past its 14:00 cut-off, dispatches tomorrow" in after[1].reasons[0]


def test_a_channel_s_preferred_warehouse_ranks_first_when_it_has_the_stock() -> None:
    rules = Rules(preferred_for_channel={"amazon": "BOM1"})
    stock = stocked(10, "BOM1", "GGN1")
    plans, _ = domain.plan(order=jaipur(channel="amazon"), warehouses=ALL, available=stock, rules=rules)
    assert codes(plans[0]) == ["BOM1"]
    assert "preferred for this channel" in plans[0].reasons[0]
    plans, _ = domain.plan(order=jaipur(channel="shopify"), warehouses=ALL, available=stock, rules=rules)
    assert codes(plans[0]) == ["GGN1"]


def test_a_warehouse_excluded_for_a_pincode_range_never_serves_it() -> None:
    rules = Rules(excluded_pincodes=[("300000", "349999", "GGN1")])
    plans, notes = domain.plan(
        order=jaipur(), warehouses=ALL, available=stocked(10, "BOM1", "GGN1"), rules=rules
    )
    assert [codes(p) for p in plans] == [["BOM1"]]
    assert notes == ["GGN1 excluded: does not serve pincodes 300000–349999"]
    guwahati = Order(lines=[TEA], customer_pincode="781001")
    plans, _ = domain.plan(order=guwahati, warehouses=ALL, available=stocked(10, "GGN1"), rules=rules)
    assert codes(plans[0]) == ["GGN1"]


def test_a_sku_pinned_to_a_warehouse_ships_only_from_there() -> None:
    rules = Rules(pinned_skus={"TEA-ASSAM-250": frozenset({"BLR1"})})
    plans, notes = domain.plan(
        order=jaipur(), warehouses=ALL, available=stocked(10, "BOM1", "BLR1", "GGN1"), rules=rules
    )
    assert [codes(p) for p in plans] == [["BLR1"]]
    assert "TEA-ASSAM-250 is pinned to BLR1" in notes


def test_plans_are_capped_and_ranked_from_one() -> None:
    plans, _ = domain.plan(
        order=jaipur(),
        warehouses=ALL,
        available=stocked(10, "BOM1", "BLR1", "GGN1"),
        policy=Policy(max_plans=2),
    )
    assert [p.rank for p in plans] == [1, 2]


def test_routing_plans_again_within_its_budget_and_asks_inventory_once_with_no_plan() -> None:
    assert domain.replans(planned=True, attempt=1, round_start=1, max_attempts=3)
    assert domain.replans(planned=True, attempt=2, round_start=1, max_attempts=3)
    assert not domain.replans(planned=True, attempt=3, round_start=1, max_attempts=3)  # budget spent
    assert domain.replans(planned=True, attempt=5, round_start=4, max_attempts=3)  # a new round
    # No plan from routing's view: the round's first attempt asks inventory; a later one was planned
    # from inventory's own numbers, so it ends there.
    assert domain.replans(planned=False, attempt=4, round_start=4, max_attempts=3)
    assert not domain.replans(planned=False, attempt=5, round_start=4, max_attempts=3)
    assert not domain.replans(planned=False, attempt=1, round_start=1, max_attempts=1)


def test_what_routing_could_not_plan_is_the_order_s_units_per_line() -> None:
    order = Order(
        lines=[
            OrderLine(sku="TEA", quantity=2, unit_price_paise=100),
            OrderLine(sku="MUG", quantity=1, unit_price_paise=100),
        ],
        customer_pincode="302001",
    )
    assert [(q.sku, q.quantity) for q in domain.wanted(order)] == [("TEA", 2), ("MUG", 1)]
