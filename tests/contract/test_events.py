"""Every event contract round-trips through JSON and lands on the topic and key DESIGN.md names."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import indian_pincode
import pytest
from pydantic import ValidationError

from contracts import (
    EVENTS,
    Channel,
    ChannelOrder,
    CourierServiceabilityChanged,
    Event,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    StockChanged,
    all_topics,
    by_topic,
    by_type,
    topics,
)
from contracts.examples import EXAMPLES, example

DESIGN_CHANNEL_ORDER = """
{"channel": "shopify", "channel_order_id": "SHP-1001", "placed_at": "2026-11-26T10:15:00+05:30",
 "customer": {"name": "Asha Verma", "phone": "+919812345678", "email": "asha@example.com"},
 "shipping_address": {"line1": "12 MI Road", "line2": null, "landmark": null, "city": "Jaipur",
                      "state": "Rajasthan", "pincode": "302001"},
 "lines": [{"sku": "TEA-ASSAM-250", "quantity": 2, "unit_price_paise": 34900}],
 "shipping_fee_paise": 0, "discount_paise": 0, "total_paise": 69800,
 "payment": {"method": "cod", "status": "pending", "gateway": null, "gateway_payment_id": null,
             "amount_paise": 69800},
 "delivery_speed": "standard"}
"""

IDS = [event.__name__ for event in EVENTS]


def test_every_event_has_a_realistic_example() -> None:
    assert set(EXAMPLES) == set(EVENTS)


@pytest.mark.parametrize("event_type", EVENTS, ids=IDS)
def test_every_event_round_trips_through_json(event_type: type[Event]) -> None:
    event = example(event_type)
    assert type(event) is event_type
    assert event_type.model_validate_json(event.model_dump_json()) == event


@pytest.mark.parametrize("event_type", EVENTS, ids=IDS)
def test_every_event_is_keyed_and_subjected_by_what_it_is_about(event_type: type[Event]) -> None:
    event = example(event_type)
    key = event.partition_key()
    assert key and key != "None"
    assert event.subject() == key
    if event_type.KEY_FIELD == "order_id" and event_type is not ChannelOrder:
        assert key == event.model_dump()["order_id"]


@pytest.mark.parametrize("event_type", EVENTS, ids=IDS)
def test_every_event_lives_on_its_own_versioned_topic(event_type: type[Event]) -> None:
    domain, name, version = event_type.TOPIC.split(".")
    assert domain and name and re.fullmatch(r"v[1-9][0-9]*", version)
    assert event_type.ce_type() == f"dabba.{event_type.TOPIC}"
    if version != "v1":  # a new major is published beside the one before it for a migration window
        assert f"{domain}.{name}.v{int(version[1:]) - 1}" in all_topics()


@pytest.mark.parametrize("event_type", EVENTS, ids=IDS)
def test_consumers_ignore_fields_added_by_newer_producers(event_type: type[Event]) -> None:
    event = example(event_type)
    data = json.loads(event.model_dump_json())
    data["added_in_a_later_minor"] = {"anything": 1}
    assert event_type.model_validate(data) == event


def test_every_orders_event_carries_order_and_channel_ids() -> None:
    for event_type in EVENTS:
        if event_type.TOPIC.startswith("orders."):
            assert {"order_id", "channel", "channel_order_id"} <= set(event_type.model_fields)


def test_design_channel_order_json_parses_exactly() -> None:
    order = ChannelOrder.model_validate_json(DESIGN_CHANNEL_ORDER)

    assert order.channel is Channel.SHOPIFY
    assert order.channel_order_id == "SHP-1001"
    assert order.placed_at == datetime(2026, 11, 26, 10, 15, tzinfo=timezone(timedelta(hours=5.5)))
    assert order.placed_at.utcoffset() == timedelta(hours=5, minutes=30)
    assert order.customer.phone == "+919812345678"
    assert order.shipping_address.pincode == "302001"
    assert order.lines[0].sku == "TEA-ASSAM-250" and order.lines[0].quantity == 2
    assert order.payment.method is PaymentMethod.COD
    assert order.payment.status is PaymentStatus.PENDING
    assert order.total_paise == 69800
    assert order.partition_key() == "shopify:SHP-1001"
    assert order.subject() == "shopify:SHP-1001"
    assert order == example(ChannelOrder)

    dumped = json.loads(order.model_dump_json())
    dumped["customer"].pop("language")
    assert dumped["customer"].pop("gstin") is None  # optional: a B2B buyer's GSTIN
    expected = json.loads(DESIGN_CHANNEL_ORDER)
    assert datetime.fromisoformat(dumped.pop("placed_at")) == datetime.fromisoformat(
        expected.pop("placed_at")
    )
    assert dumped == expected


def test_channel_order_keeps_the_channels_own_offset() -> None:
    order = ChannelOrder.model_validate_json(DESIGN_CHANNEL_ORDER)
    assert "+05:30" in order.model_dump_json()


def test_channel_order_without_timezone_is_refused_naming_the_field() -> None:
    data = json.loads(DESIGN_CHANNEL_ORDER)
    data["placed_at"] = "2026-11-26T10:15:00"
    with pytest.raises(ValidationError) as caught:
        ChannelOrder.model_validate(data)
    assert caught.value.errors()[0]["loc"] == ("placed_at",)


@pytest.mark.parametrize(
    ("mutate", "location"),
    [
        (lambda d: d["lines"][0].update(quantity=0), ("lines", 0, "quantity")),
        (lambda d: d["lines"].clear(), ("lines",)),
        (lambda d: d.update(total_paise=-1), ("total_paise",)),
        (lambda d: d["shipping_address"].update(pincode="30201"), ("shipping_address", "pincode")),
        (lambda d: d["shipping_address"].update(pincode="30200A"), ("shipping_address", "pincode")),
        (lambda d: d["payment"].update(method="bitcoin"), ("payment", "method")),
        (lambda d: d.update(channel="myntra"), ("channel",)),
    ],
)
def test_malformed_channel_order_errors_name_the_field(
    mutate: Callable[[dict[str, Any]], object], location: tuple[str | int, ...]
) -> None:
    data = json.loads(DESIGN_CHANNEL_ORDER)
    mutate(data)
    with pytest.raises(ValidationError) as caught:
        ChannelOrder.model_validate(data)
    assert [error["loc"] for error in caught.value.errors()] == [location]


def test_utc_fields_are_normalised_to_utc() -> None:
    changed = StockChanged(
        sku="TEA-ASSAM-250",
        available_total=3,
        by_warehouse={"GGN1": 3},
        changed_at=datetime(2026, 11, 26, 10, 15, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    )
    assert changed.changed_at == datetime(2026, 11, 26, 4, 45, tzinfo=UTC)
    assert changed.changed_at.utcoffset() == timedelta(0)


def test_order_status_values_are_the_design_state_names() -> None:
    for state in ("PLACED", "PARTIALLY_SHIPPED", "BACKORDERED", "RTO_DELIVERED", "REFUNDED"):
        assert OrderStatus(state).value == state


def test_registry_maps_every_ce_type_and_topic_back_to_its_model() -> None:
    for event_type in EVENTS:
        assert by_type(event_type.ce_type()) is event_type
        assert by_topic(event_type.TOPIC) is event_type
    assert all_topics() == sorted(event.TOPIC for event in EVENTS)
    assert len(set(all_topics())) == len(EVENTS) == 29


def test_registry_names_the_unknown_type_in_its_error() -> None:
    with pytest.raises(KeyError, match=r"dabba\.orders\.teleported\.v1"):
        by_type("dabba.orders.teleported.v1")
    with pytest.raises(KeyError, match=r"orders\.teleported\.v1"):
        by_topic("orders.teleported.v1")


def test_topic_constants_cover_every_event_topic() -> None:
    constants = {
        value
        for name, value in vars(topics).items()
        if name.isupper() and isinstance(value, str) and value.count(".") == 2
    }
    assert constants == set(all_topics())
    assert topics.DEFAULT_PARTITIONS == 4  # ADR 541
    assert topics.dlq_topic("orders") == "dlq.orders"
    assert "dlq.shipping" in topics.dlq_topics()


def test_one_courier_serving_every_indian_pincode_fits_in_one_kafka_record() -> None:
    """ADR 0410: v2 carries one courier's lists; even a courier picking up from and delivering to
    every pincode India has, prepaid and COD, stays under Kafka's default 1 MiB record limit."""
    everywhere = sorted(indian_pincode.get_pincodes())
    event = CourierServiceabilityChanged(
        courier="delhivery",
        pickup=everywhere,
        prepaid=everywhere,
        cod=everywhere,
        loaded_at=datetime(2026, 12, 7, 5, 30, tzinfo=UTC),
    )

    assert len(everywhere) > 19_000
    assert len(event.model_dump_json().encode()) < 1_000_000
