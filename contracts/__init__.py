"""Dabba's public event contracts: versioned pydantic models, enums, topics and the envelope.

Depends only on pydantic, uuid_utils and the standard library, so any team can import it.
"""

from contracts import topics
from contracts._base import AwareDatetime, Event, Model, UtcDatetime, utcnow
from contracts.channel import ChannelOrder
from contracts.enums import (
    CancelReason,
    Channel,
    DeliverySpeed,
    NdrReason,
    NotificationChannel,
    OrderStatus,
    PaymentEventStatus,
    PaymentMethod,
    PaymentStatus,
    ReplyChoice,
    ReturnReason,
    ReturnResolution,
    ReturnStatus,
    ShipmentStatus,
    TicketChange,
)
from contracts.envelope import Envelope, new_event_id
from contracts.inventory import (
    InventoryReleased,
    InventoryReservationFailed,
    InventoryReserved,
    LowStock,
    StockChanged,
)
from contracts.invoicing import CreditNoteIssued, InvoicedLine, InvoiceIssued
from contracts.notifications import CustomerReplied, NotificationFailed, NotificationSent, TicketUpdated
from contracts.orders import (
    OrderCancelled,
    OrderConfirmed,
    OrderContactCorrected,
    OrderEvent,
    OrderPlaced,
    OrderRejected,
    OrderStatusChanged,
)
from contracts.payments import PaymentUpdated
from contracts.registry import EVENTS, all_topics, by_topic, by_type
from contracts.returns import ReturnExchangeRequested, ReturnRefunded, ReturnRequested, ReturnUpdated
from contracts.routing import FulfilmentPlan, PlannedShipment, RoutingPlanned, WarehouseChanged
from contracts.shipping import (
    CourierServiceabilityChanged,
    ServiceabilityChanged,
    ShipmentCreated,
    ShipmentUpdated,
)
from contracts.values import (
    Address,
    Allocation,
    Customer,
    FieldProblem,
    OrderLine,
    Payment,
    ReturnLine,
    SkuQuantity,
    StockAvailability,
    StockLevels,
)

__all__ = [
    "EVENTS",
    "Address",
    "Allocation",
    "AwareDatetime",
    "CancelReason",
    "Channel",
    "ChannelOrder",
    "CourierServiceabilityChanged",
    "CreditNoteIssued",
    "Customer",
    "CustomerReplied",
    "DeliverySpeed",
    "Envelope",
    "Event",
    "FieldProblem",
    "FulfilmentPlan",
    "InventoryReleased",
    "InventoryReservationFailed",
    "InventoryReserved",
    "InvoiceIssued",
    "InvoicedLine",
    "LowStock",
    "Model",
    "NdrReason",
    "NotificationChannel",
    "NotificationFailed",
    "NotificationSent",
    "OrderCancelled",
    "OrderConfirmed",
    "OrderContactCorrected",
    "OrderEvent",
    "OrderLine",
    "OrderPlaced",
    "OrderRejected",
    "OrderStatus",
    "OrderStatusChanged",
    "Payment",
    "PaymentEventStatus",
    "PaymentMethod",
    "PaymentStatus",
    "PaymentUpdated",
    "PlannedShipment",
    "ReplyChoice",
    "ReturnExchangeRequested",
    "ReturnLine",
    "ReturnReason",
    "ReturnRefunded",
    "ReturnRequested",
    "ReturnResolution",
    "ReturnStatus",
    "ReturnUpdated",
    "RoutingPlanned",
    "ServiceabilityChanged",
    "ShipmentCreated",
    "ShipmentStatus",
    "ShipmentUpdated",
    "SkuQuantity",
    "StockAvailability",
    "StockChanged",
    "StockLevels",
    "TicketChange",
    "TicketUpdated",
    "UtcDatetime",
    "WarehouseChanged",
    "all_topics",
    "by_topic",
    "by_type",
    "new_event_id",
    "topics",
    "utcnow",
]
