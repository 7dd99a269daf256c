"""CloudEvents headers survive a trip through Kafka's header list unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts import Envelope, OrderPlaced, StockChanged, by_type
from contracts.envelope import header
from contracts.examples import example

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_headers_round_trip_through_the_envelope() -> None:
    envelope = Envelope(
        id="01936a4e-7c00-7000-8000-000000000001",
        type="dabba.orders.placed.v1",
        source="orders",
        time=datetime(2026, 11, 26, 4, 45, tzinfo=UTC),
        subject="ord_01JDABBA0000000000000001",
        traceparent=TRACEPARENT,
        tracestate="dabba=1",
        extra={"dlq_original_topic": "orders.placed.v1"},
    )
    headers = envelope.to_headers()
    assert header(headers, "content-type") == "application/json"
    assert header(headers, "ce_specversion") == "1.0"
    assert Envelope.from_headers(headers) == envelope


def test_envelope_for_an_event_names_its_type_and_subject() -> None:
    event = example(OrderPlaced)
    envelope = Envelope.for_event(event, source="orders", traceparent=TRACEPARENT)
    back = Envelope.from_headers(envelope.to_headers())
    assert back == envelope
    assert by_type(back.type) is OrderPlaced
    assert back.subject == event.order_id
    assert len(back.id) == 36 and back.id[14] == "7"


def test_stock_events_are_subjected_by_sku() -> None:
    envelope = Envelope.for_event(example(StockChanged), source="inventory")
    assert envelope.subject == "TEA-ASSAM-250"


def test_missing_required_header_is_named() -> None:
    with pytest.raises(ValueError, match="ce_type"):
        Envelope.from_headers([("ce_id", b"x"), ("ce_source", b"orders")])
