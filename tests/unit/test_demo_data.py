"""The demo catalogue and order generator: every order is one a real adapter could send and Dabba accepts."""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

import indian_pincode
import phonenumbers
import pytest

from contracts import ChannelOrder, PaymentMethod, PaymentStatus
from deploy.local import demo_data

ORDERS = [demo_data.make_order(i, random.Random(i)) for i in range(500)]


def _state_key(name: str) -> str:
    return re.sub(r"[^A-Z]", "", name.upper())


@pytest.mark.parametrize("order", ORDERS[:200])
def test_every_generated_order_is_a_valid_channel_order(order: dict[str, object]) -> None:
    ChannelOrder.model_validate(order)


def test_totals_add_up_and_the_payment_covers_the_total() -> None:
    for order in map(ChannelOrder.model_validate, ORDERS):
        lines = sum(line.quantity * line.unit_price_paise for line in order.lines)
        assert order.total_paise == lines + order.shipping_fee_paise - order.discount_paise
        assert order.payment.amount_paise == order.total_paise
        assert len({line.sku for line in order.lines}) == len(order.lines)
        assert all(line.unit_price_paise == demo_data.PRICES[line.sku] for line in order.lines)


@pytest.mark.parametrize("city", demo_data.CITIES, ids=lambda c: c.name)
def test_each_city_pincode_is_in_the_state_we_say(city: demo_data.City) -> None:
    assert _state_key(indian_pincode.get_state(city.pincode) or "") == _state_key(city.state)


SERVICEABILITY = Path(__file__).parents[2] / "services/shipping/data/serviceability.csv"


@pytest.mark.parametrize("city", demo_data.CITIES, ids=lambda c: f"{c.name} {c.pincode}")
def test_a_demo_courier_serves_each_city_for_prepaid_and_cod(city: demo_data.City) -> None:
    with SERVICEABILITY.open() as f:
        rows = [r for r in csv.DictReader(f) if r["pincode"] == city.pincode]
    assert any(r["prepaid"] == "true" for r in rows), (
        f"no courier serves {city.pincode}: orders would not ship"
    )
    assert any(r["cod"] == "true" for r in rows), f"no courier takes COD to {city.pincode}"


@pytest.mark.parametrize("warehouse", demo_data.WAREHOUSES, ids=lambda w: w.code)
def test_each_warehouse_pincode_is_real(warehouse: demo_data.Warehouse) -> None:
    assert indian_pincode.get_state(warehouse.pincode) is not None


def test_customer_phones_are_valid_indian_mobiles() -> None:
    for order in ORDERS:
        number = phonenumbers.parse(order["customer"]["phone"], "IN")
        assert number.country_code == 91
        assert phonenumbers.is_valid_number(number), order["customer"]["phone"]
        assert phonenumbers.number_type(number) in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )


def test_the_mix_has_several_channels_cod_and_prepaid_captured_with_a_gateway_id() -> None:
    orders = [ChannelOrder.model_validate(o) for o in ORDERS]
    assert {o.channel.value for o in orders} >= {"website", "shopify", "amazon", "flipkart"}
    cod = [o for o in orders if o.payment.method is PaymentMethod.COD]
    prepaid = [o for o in orders if o.payment.method is not PaymentMethod.COD]
    assert 0 < len(cod) < len(prepaid)
    assert all(o.payment.status is PaymentStatus.PENDING for o in cod)
    assert all(o.payment.gateway_payment_id is None for o in cod)
    assert all(o.payment.status is PaymentStatus.CAPTURED for o in prepaid)
    assert all(o.payment.gateway_payment_id for o in prepaid)


def test_benchmark_orders_are_prepaid_and_carry_the_run_prefix() -> None:
    rng = random.Random(7)
    orders = [
        demo_data.make_order(i, rng, channel_order_id_prefix="BENCH-x-", prepaid_only=True)
        for i in range(300)
    ]
    assert [o["channel_order_id"] for o in orders] == [f"BENCH-x-{i}" for i in range(300)]
    assert all(o["payment"]["status"] == "captured" for o in orders)


def test_stock_is_uneven_so_routing_has_to_choose() -> None:
    assert set(demo_data.STOCK) == set(demo_data.PRICES)
    codes = {w.code for w in demo_data.WAREHOUSES}
    for sku, per_warehouse in demo_data.STOCK.items():
        assert set(per_warehouse) == codes, sku
        assert len(set(per_warehouse.values())) > 1, sku
