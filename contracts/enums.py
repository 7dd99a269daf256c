"""Every status and code that crosses a service boundary, as string enums.

Values are the wire format: lower_snake for codes, UPPER_CASE for lifecycle states.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """Where an order came from."""

    WEBSITE = "website"
    APP = "app"
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    AMAZON = "amazon"
    FLIPKART = "flipkart"
    WHATSAPP = "whatsapp"
    POS = "pos"
    MANUAL = "manual"
    EXCHANGE = "exchange"


class PaymentMethod(StrEnum):
    COD = "cod"
    UPI = "upi"
    CARD = "card"
    WALLET = "wallet"
    NETBANKING = "netbanking"


class PaymentStatus(StrEnum):
    """The payment state machine: prepaid and COD paths share one enum."""

    PENDING = "pending"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    FAILED = "failed"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    COD_CONFIRMED = "cod_confirmed"
    COD_DECLINED = "cod_declined"
    COLLECTED = "collected"


class PaymentEventStatus(StrEnum):
    """What a ``payments.updated.v1`` event reports."""

    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    FAILED = "failed"
    REFUNDED = "refunded"
    COD_CONFIRMED = "cod_confirmed"
    COD_DECLINED = "cod_declined"


class DeliverySpeed(StrEnum):
    STANDARD = "standard"
    EXPRESS = "express"
    SAME_DAY = "same_day"


class OrderStatus(StrEnum):
    """The order state machine; with several shipments it is derived from theirs."""

    PLACED = "PLACED"
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PENDING_COD_CONFIRMATION = "PENDING_COD_CONFIRMATION"
    ON_HOLD = "ON_HOLD"
    BACKORDERED = "BACKORDERED"
    CONFIRMED = "CONFIRMED"
    PACKED = "PACKED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    PARTIALLY_DELIVERED = "PARTIALLY_DELIVERED"
    DELIVERED = "DELIVERED"
    DELIVERY_FAILED = "DELIVERY_FAILED"
    RTO_INITIATED = "RTO_INITIATED"
    RTO_DELIVERED = "RTO_DELIVERED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    RETURN_REQUESTED = "RETURN_REQUESTED"
    PARTIALLY_RETURNED = "PARTIALLY_RETURNED"
    RETURNED = "RETURNED"
    REFUNDED = "REFUNDED"


class ShipmentStatus(StrEnum):
    """Canonical shipment states, mapped from each courier's own codes."""

    CREATED = "CREATED"
    AWB_ASSIGNED = "AWB_ASSIGNED"
    PICKED = "PICKED"
    PACKED = "PACKED"
    MANIFESTED = "MANIFESTED"
    PICKED_UP = "PICKED_UP"
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    DELIVERED = "DELIVERED"
    NDR = "NDR"
    RTO_INITIATED = "RTO_INITIATED"
    RTO_IN_TRANSIT = "RTO_IN_TRANSIT"
    RTO_DELIVERED = "RTO_DELIVERED"
    LOST = "LOST"
    CANCELLED = "CANCELLED"


class ReturnStatus(StrEnum):
    """The return (RMA) state machine."""

    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    PICKUP_SCHEDULED = "PICKUP_SCHEDULED"
    PICKED_UP = "PICKED_UP"
    RECEIVED = "RECEIVED"
    QC_PASSED = "QC_PASSED"
    QC_FAILED = "QC_FAILED"
    RESTOCKED = "RESTOCKED"
    QUARANTINED = "QUARANTINED"
    REFUND_PENDING = "REFUND_PENDING"
    REFUNDED = "REFUNDED"
    EXCHANGE_PLACED = "EXCHANGE_PLACED"
    CLOSED = "CLOSED"


class ReturnReason(StrEnum):
    """The fixed taxonomy, so return rate by SKU and reason can be reported."""

    SIZE_ISSUE = "size_issue"
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    DEFECTIVE = "defective"
    NOT_AS_DESCRIBED = "not_as_described"
    CHANGED_MIND = "changed_mind"
    LATE_DELIVERY = "late_delivery"
    OTHER = "other"


class ReturnResolution(StrEnum):
    """What the customer gets back once a return passes QC."""

    REFUND = "refund"
    EXCHANGE = "exchange"


class NdrReason(StrEnum):
    """Why a delivery attempt failed, normalised across couriers."""

    CUSTOMER_UNAVAILABLE = "customer_unavailable"
    PHONE_UNREACHABLE = "phone_unreachable"
    CASH_NOT_READY = "cash_not_ready"
    FUTURE_DELIVERY_REQUESTED = "future_delivery_requested"
    REFUSED = "refused"
    WRONG_OR_INCOMPLETE_ADDRESS = "wrong_or_incomplete_address"
    OUT_OF_DELIVERY_AREA = "out_of_delivery_area"
    OTHER = "other"


class CancelReason(StrEnum):
    CUSTOMER_REQUEST = "customer_request"
    PAYMENT_EXPIRED = "payment_expired"
    PAYMENT_FAILED = "payment_failed"
    COD_DECLINED = "cod_declined"
    OUT_OF_STOCK = "out_of_stock"
    UNROUTABLE = "unroutable"
    FRAUD_SUSPECTED = "fraud_suspected"
    OPERATOR = "operator"
    OTHER = "other"


class NotificationChannel(StrEnum):
    WHATSAPP = "whatsapp"
    SMS = "sms"
    SLACK = "slack"


class ReplyChoice(StrEnum):
    """A customer's button reply: COD confirmation or an NDR action."""

    COD_CONFIRM = "cod_confirm"
    COD_CANCEL = "cod_cancel"
    NDR_REATTEMPT = "ndr_reattempt"
    NDR_NEW_ADDRESS = "ndr_new_address"
    NDR_NEW_PHONE = "ndr_new_phone"
    NDR_RTO = "ndr_rto"
    NDR_CANCEL = "ndr_cancel"


class TicketChange(StrEnum):
    """What happened to a customer's ticket: they wrote, an operator answered, or it was closed."""

    CUSTOMER_WROTE = "customer_wrote"
    OPERATOR_REPLIED = "operator_replied"
    CLOSED = "closed"
