"""HTTP request and response shapes of the orders API, with the examples its OpenAPI shows.

Text with NUL or control characters is refused for every route by the chassis (chassis.text).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chassis.http import errors
from chassis.pages import Page
from contracts import CancelReason, Channel, DeliverySpeed
from contracts.values import Address, Customer, NonEmptyStr, OrderLine, Payment

ADDRESS_EXAMPLE: dict[str, Any] = {
    "line1": "12 MI Road",
    "line2": None,
    "landmark": "near Ajmeri Gate",
    "city": "Jaipur",
    "state": "Rajasthan",
    "pincode": "302001",
}
MAX_PAISE = 100_000_000_000  # ₹100 crore: far above any one order, far below what bigint sums hold
STAFF_ORDER_EXAMPLE: dict[str, Any] = {
    "channel": "whatsapp",
    "channel_order_id": "WA-2026-0042",
    "placed_at": "2026-11-26T10:15:00+05:30",
    "customer": {"name": "Asha Verma", "phone": "98123 45678", "email": None, "language": "hi"},
    "shipping_address": ADDRESS_EXAMPLE,
    "lines": [{"sku": "TEA-ASSAM-250", "quantity": 2, "unit_price_paise": 34900}],
    "shipping_fee_paise": 4900,
    "discount_paise": 0,
    "total_paise": 74700,
    "payment": {
        "method": "cod",
        "status": "pending",
        "gateway": None,
        "gateway_payment_id": None,
        "amount_paise": 74700,
    },
    "delivery_speed": "standard",
}


class Request(BaseModel):
    """A request body: unknown fields refused, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


ERRORS = errors(401, 403)
NOT_FOUND = errors(404, descriptions={404: "No such order"})
CONFLICT = errors(409, descriptions={409: "The order's status does not allow this now"})
INVALID = errors(422)


class StaffOrder(Request):
    """An order keyed in by staff (phone, WhatsApp, store) or submitted by an integration."""

    channel: Channel = Channel.MANUAL
    channel_order_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The channel's own id; sending the same one twice never makes a second order. "
        "Left out, one is made up (then retries are not recognised).",
    )
    placed_at: datetime | None = Field(default=None, description="Defaults to now.")
    customer: Customer
    shipping_address: Address
    lines: list[OrderLine] = Field(min_length=1, max_length=200)
    shipping_fee_paise: int = Field(default=0, ge=0, le=MAX_PAISE)
    discount_paise: int = Field(default=0, ge=0, le=MAX_PAISE)
    total_paise: int = Field(ge=0, le=MAX_PAISE)
    payment: Payment
    delivery_speed: DeliverySpeed = DeliverySpeed.STANDARD
    rehearsal: bool = Field(
        default=False,
        description="An operator's rehearsal before a sale (ADR 0360): the real pipeline runs (routing, "
        "reservation, courier booking) with every message to the operator's own number (customer.phone "
        "one of OPERATOR_PHONES), cash on delivery, and it is cancelled with its stock released once its "
        "parcels are booked. Never counted in analytics, channel stock or invoices.",
    )

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [STAFF_ORDER_EXAMPLE]})


class Resubmission(Request):
    """A refused order, corrected by an operator; channel and channel order id stay as received
    unless the original did not carry usable ones."""

    channel: Channel | None = None
    channel_order_id: str | None = Field(default=None, min_length=1, max_length=100)
    placed_at: datetime | None = None
    customer: Customer
    shipping_address: Address
    lines: list[OrderLine] = Field(min_length=1, max_length=200)
    shipping_fee_paise: int = Field(default=0, ge=0, le=MAX_PAISE)
    discount_paise: int = Field(default=0, ge=0, le=MAX_PAISE)
    total_paise: int = Field(ge=0, le=MAX_PAISE)
    payment: Payment
    delivery_speed: DeliverySpeed = DeliverySpeed.STANDARD

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {k: v for k, v in STAFF_ORDER_EXAMPLE.items() if k not in ("channel", "channel_order_id")}
            ]
        },
    )


class Created(BaseModel):
    """The order that was made."""

    order_id: str
    status: str

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"order_id": "ORD-019AC2E1F3A0-5E3B7A21", "status": "PLACED"}]}
    )


class ActionResult(BaseModel):
    """The order after an operator action."""

    order_id: str
    status: str
    actor: str = Field(description="Who did it, role:name of the API key.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"order_id": "ORD-019AC2E1F3A0-5E3B7A21", "status": "CANCELLED", "actor": "ops:asha"}
            ]
        }
    )


class CancelRequest(Request):
    """Why the order is cancelled."""

    reason_code: CancelReason = CancelReason.OPERATOR
    note: str | None = Field(default=None, max_length=500)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason_code": "customer_request", "note": "customer called to cancel"}]
        },
    )


class HoldRequest(Request):
    """Why the order waits."""

    reason: NonEmptyStr = Field(max_length=500)

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "customer asked to deliver after Diwali"}]}
    )


class CodDecision(Request):
    """What the customer said on the phone."""

    note: str | None = Field(default=None, max_length=500)

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"note": "confirmed on a call"}]}
    )


class ContactCorrection(Request):
    """A corrected phone and/or address; what is left out stays as it is."""

    phone: str | None = Field(default=None, min_length=1, max_length=32)
    shipping_address: Address | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"phone": "+91 98123 45679", "shipping_address": ADDRESS_EXAMPLE}]},
    )


class BlockRequest(Request):
    """Why a phone or pincode is blocked."""

    reason: NonEmptyStr = Field(max_length=500)

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "3 refused COD parcels"}]}
    )


class BlockEntry(BaseModel):
    """One blocked phone or pincode."""

    kind: Literal["phone", "pincode"]
    value: str
    reason: str
    added_by: str
    added_at: datetime


class OrderSummary(BaseModel):
    """One row of the order queue."""

    order_id: str
    channel: str
    channel_order_id: str
    status: str
    total_paise: int | None
    payment_method: str | None
    payment_status: str | None
    warehouse_codes: list[str]
    awbs: list[str]
    risk_reasons: list[str]
    promised_dispatch_by: datetime | None
    priority: int | None
    priority_reasons: list[str] = Field(
        default_factory=list, description='One per weight that counted: "express +100".'
    )
    created_at: datetime


SUMMARY_EXAMPLE: dict[str, Any] = {
    "order_id": "ORD-019AC2E1F3A0-5E3B7A21",
    "channel": "shopify",
    "channel_order_id": "SHP-1001",
    "status": "PENDING_COD_CONFIRMATION",
    "total_paise": 69800,
    "payment_method": "cod",
    "payment_status": "pending",
    "warehouse_codes": ["GGN1"],
    "awbs": [],
    "risk_reasons": [],
    "promised_dispatch_by": None,
    "priority": None,
    "priority_reasons": [],
    "created_at": "2026-11-26T04:45:00.123456Z",
}


class OrderPage(Page[OrderSummary]):
    """A page of the queue; pass next_cursor back as `cursor` for the next one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [SUMMARY_EXAMPLE],
                    "next_cursor": "2026-11-26T04:45:00.123456+00:00|ORD-019AC2E1F3A0-5E3B7A21",
                }
            ]
        }
    )


class TimelineEntry(BaseModel):
    """One status change (or a note, when from and to are the same) and what caused it."""

    from_status: str | None
    to_status: str
    reason: str
    cause: str | None = Field(description="A topic, an HTTP action, a webhook or a sweep.")
    cause_event_id: str | None
    actor: str
    at: datetime


class OrderDetail(BaseModel):
    """An order with everything known about it and its full timeline."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **{k: SUMMARY_EXAMPLE[k] for k in ("order_id", "channel", "channel_order_id", "status")},
                    "customer": {
                        "name": "Asha Verma",
                        "phone": "+919812345678",
                        "email": None,
                        "language": "hi",
                    },
                    "shipping_address": ADDRESS_EXAMPLE,
                    "payment": {"method": "cod", "status": "pending", "amount_paise": 69800},
                    "timeline": [
                        {
                            "from_status": None,
                            "to_status": "PLACED",
                            "reason": "received from shopify",
                            "cause": "channel.orders.v1",
                            "cause_event_id": "0b0c6f3e-2f7a-5c53-9d8e-1f6a3c2b9e10",
                            "actor": "system",
                            "at": "2026-11-26T04:45:00.123456Z",
                        },
                        {
                            "from_status": "PLACED",
                            "to_status": "PENDING_COD_CONFIRMATION",
                            "reason": "stock reserved; waiting for the customer to confirm COD",
                            "cause": "inventory.reserved.v1",
                            "cause_event_id": "019ac2e1-f3a1-7c2d-8e9f-0a1b2c3d4e5f",
                            "actor": "system",
                            "at": "2026-11-26T04:45:00.412345Z",
                        },
                    ],
                }
            ]
        },
    )

    order_id: str
    channel: str
    channel_order_id: str
    status: str
    placed_at: datetime | None
    customer: dict[str, Any] | None
    shipping_address: dict[str, Any] | None
    lines: list[dict[str, Any]] | None
    shipping_fee_paise: int | None
    discount_paise: int | None
    total_paise: int | None
    payment: dict[str, Any] | None
    delivery_speed: str | None
    problems: list[dict[str, Any]] | None = Field(description="Why a REJECTED order was refused.")
    received: dict[str, Any] | None = Field(description="What a refused channel order said, to correct it.")
    reservation_id: str | None
    allocations: list[dict[str, Any]] | None
    awbs: list[str]
    created_at: datetime
    updated_at: datetime
    phone: str | None = Field(description="The customer's phone in E.164, as searched.")
    entered_by: str | None
    risk_reasons: list[str]
    warehouse_codes: list[str]
    unroutable: bool
    held_for: str | None = Field(
        description="Why an ON_HOLD order waits: review, operator, cod_no_reply, ..."
    )
    payment_expires_at: datetime | None
    cod_confirm_by: datetime | None
    promised_dispatch_by: datetime | None
    priority: int | None
    refunded_paise: int
    refund_ids: list[str]
    shipments: dict[str, str] = Field(description="shipment_id → its latest status.")
    returned: dict[str, dict[str, int]] = Field(description="return_id → SKU → units received back.")
    priority_reasons: list[str]
    shipped_by_marketplace: bool
    rehearsal: bool
    timeline: list[TimelineEntry]


class WebhookAnswer(BaseModel):
    """What a Razorpay delivery did."""

    status: Literal["applied", "duplicate", "ignored", "kept"]
    order_id: str | None = None
    outcome: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "applied", "order_id": "ORD-019AC2E1F3A0-5E3B7A21", "outcome": "confirmed"}
            ]
        }
    )
