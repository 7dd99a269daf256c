"""Kafka topic names: one topic per event type and major version, ``<domain>.<event>.v<major>``.

The project's topic setup creates them with KAFKA_TOPIC_PARTITIONS partitions (DEFAULT_PARTITIONS
unless set, ADR 541); never auto-created.
"""

from __future__ import annotations

DEFAULT_PARTITIONS = 4

CHANNEL_ORDERS = "channel.orders.v1"

ORDERS_PLACED = "orders.placed.v1"
ORDERS_REJECTED = "orders.rejected.v1"
ORDERS_CONFIRMED = "orders.confirmed.v1"
ORDERS_CANCELLED = "orders.cancelled.v1"
ORDERS_STATUS_CHANGED = "orders.status_changed.v1"
ORDERS_CONTACT_CORRECTED = "orders.contact_corrected.v1"

PAYMENTS_UPDATED = "payments.updated.v1"

ROUTING_PLANNED = "routing.planned.v1"
ROUTING_WAREHOUSE_CHANGED = "routing.warehouse_changed.v1"

INVENTORY_RESERVED = "inventory.reserved.v1"
INVENTORY_RESERVATION_FAILED = "inventory.reservation_failed.v1"
INVENTORY_RELEASED = "inventory.released.v1"
INVENTORY_STOCK_CHANGED = "inventory.stock_changed.v1"
INVENTORY_LOW_STOCK = "inventory.low_stock.v1"

SHIPPING_SHIPMENT_CREATED = "shipping.shipment_created.v1"
SHIPPING_SHIPMENT_UPDATED = "shipping.shipment_updated.v1"
SHIPPING_SERVICEABILITY_CHANGED = "shipping.serviceability_changed.v1"
SHIPPING_SERVICEABILITY_CHANGED_V2 = "shipping.serviceability_changed.v2"

NOTIFICATIONS_SENT = "notifications.sent.v1"
NOTIFICATIONS_FAILED = "notifications.failed.v1"
NOTIFICATIONS_CUSTOMER_REPLIED = "notifications.customer_replied.v1"
NOTIFICATIONS_TICKET_UPDATED = "notifications.ticket_updated.v1"

RETURNS_REQUESTED = "returns.requested.v1"
RETURNS_UPDATED = "returns.updated.v1"
RETURNS_REFUNDED = "returns.refunded.v1"
RETURNS_EXCHANGE_REQUESTED = "returns.exchange_requested.v1"

INVOICING_INVOICE_ISSUED = "invoicing.invoice_issued.v1"
INVOICING_CREDIT_NOTE_ISSUED = "invoicing.credit_note_issued.v1"

SERVICES = (
    "orders",
    "routing",
    "inventory",
    "shipping",
    "notifications",
    "returns",
    "console",
    "channels",
    "invoicing",
)
"""Services that consume from Kafka, and so each have a dead-letter topic."""


def dlq_topic(service: str) -> str:
    """The dead-letter topic of one consuming service: ``dlq.<service>``."""
    if not service or "." in service:
        raise ValueError(f"service name must be a non-empty name without dots, got {service!r}")
    return f"dlq.{service}"


def dlq_topics() -> list[str]:
    """Every service's dead-letter topic."""
    return [dlq_topic(service) for service in SERVICES]
