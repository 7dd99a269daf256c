"""Every event model (each major version its own), and lookups from a CloudEvents type or a topic
back to its model.

Consumers use by_type on the ``ce_type`` header to pick the model that parses a record's value.
"""

from __future__ import annotations

from contracts._base import Event
from contracts.channel import ChannelOrder
from contracts.inventory import (
    InventoryReleased,
    InventoryReservationFailed,
    InventoryReserved,
    LowStock,
    StockChanged,
)
from contracts.invoicing import CreditNoteIssued, InvoiceIssued
from contracts.notifications import CustomerReplied, NotificationFailed, NotificationSent, TicketUpdated
from contracts.orders import (
    OrderCancelled,
    OrderConfirmed,
    OrderContactCorrected,
    OrderPlaced,
    OrderRejected,
    OrderStatusChanged,
)
from contracts.payments import PaymentUpdated
from contracts.returns import ReturnExchangeRequested, ReturnRefunded, ReturnRequested, ReturnUpdated
from contracts.routing import RoutingPlanned, WarehouseChanged
from contracts.shipping import (
    CourierServiceabilityChanged,
    ServiceabilityChanged,
    ShipmentCreated,
    ShipmentUpdated,
)

EVENTS: tuple[type[Event], ...] = (
    ChannelOrder,
    OrderPlaced,
    OrderRejected,
    OrderConfirmed,
    OrderCancelled,
    OrderStatusChanged,
    OrderContactCorrected,
    PaymentUpdated,
    RoutingPlanned,
    WarehouseChanged,
    InventoryReserved,
    InventoryReservationFailed,
    InventoryReleased,
    StockChanged,
    LowStock,
    ShipmentCreated,
    ShipmentUpdated,
    ServiceabilityChanged,
    CourierServiceabilityChanged,
    NotificationSent,
    NotificationFailed,
    CustomerReplied,
    TicketUpdated,
    ReturnRequested,
    ReturnUpdated,
    ReturnRefunded,
    ReturnExchangeRequested,
    InvoiceIssued,
    CreditNoteIssued,
)

_BY_TYPE: dict[str, type[Event]] = {event.ce_type(): event for event in EVENTS}
_BY_TOPIC: dict[str, type[Event]] = {event.TOPIC: event for event in EVENTS}
if len(_BY_TOPIC) != len(EVENTS):
    raise RuntimeError("two event models share one topic")


def by_type(ce_type: str) -> type[Event]:
    """The model for a CloudEvents type such as ``dabba.orders.placed.v1``."""
    try:
        return _BY_TYPE[ce_type]
    except KeyError:
        raise KeyError(
            f"unknown CloudEvents type {ce_type!r}; known: {', '.join(sorted(_BY_TYPE))}"
        ) from None


def by_topic(topic: str) -> type[Event]:
    """The model for a topic such as ``orders.placed.v1``."""
    try:
        return _BY_TOPIC[topic]
    except KeyError:
        raise KeyError(f"unknown topic {topic!r}; known: {', '.join(sorted(_BY_TOPIC))}") from None


def all_topics() -> list[str]:
    """Every event topic, sorted (dead-letter topics are in ``topics.dlq_topics()``)."""
    return sorted(_BY_TOPIC)
