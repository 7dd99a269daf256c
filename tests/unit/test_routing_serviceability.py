"""Routing holds back an order no courier delivers to (ADR 0311): by pincode and payment method,
and never on no knowledge at all."""

from services.routing.domain import Served, no_courier


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
