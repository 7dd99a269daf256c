"""Return (RMA) lifecycle: request, pickup, receipt and QC, restock, refund or exchange.

Lines carry a reason from the fixed taxonomy so return rate by SKU and reason can be reported.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from contracts import topics
from contracts._base import Event, UtcDatetime, utcnow
from contracts.enums import PaymentMethod, ReturnResolution, ReturnStatus
from contracts.values import Address, Customer, NonEmptyStr, OrderLine, Paise, ReturnLine


class _ReturnEvent(Event):
    order_id: NonEmptyStr
    return_id: NonEmptyStr
    status: ReturnStatus
    lines: list[ReturnLine] = Field(min_length=1)
    occurred_at: UtcDatetime = Field(default_factory=utcnow)


class ReturnRequested(_ReturnEvent):
    """``returns.requested.v1``: shipping schedules the reverse pickup from this."""

    TOPIC = topics.RETURNS_REQUESTED

    resolution: ReturnResolution = ReturnResolution.REFUND
    pickup_address: Address | None = None
    customer: Customer | None = None
    warehouse_code: str | None = Field(default=None, description="Where the parcel goes back to.")
    pickup_mode: Literal["reverse_pickup", "drop_off"] | None = Field(
        default=None,
        description="reverse_pickup (absent means this too): shipping books a courier pickup; "
        "drop_off: the customer brings the parcel to the warehouse, no pickup is booked.",
    )


class ReturnUpdated(_ReturnEvent):
    """``returns.updated.v1``: every status change; inventory restocks on RESTOCKED."""

    TOPIC = topics.RETURNS_UPDATED

    warehouse_code: str | None = Field(default=None, description="Set once received.")
    note: str | None = None
    kind: Literal["return", "rto"] | None = Field(
        default=None,
        description="return (absent means this too): a customer's return; rto: a parcel that came "
        "back undelivered, received at the same desk (its order was never delivered).",
    )
    alert: Literal["refund_sla_breached", "refund_failed"] | None = Field(
        default=None, description="Set when operators must act; `note` says why."
    )


class ReturnRefunded(_ReturnEvent):
    """``returns.refunded.v1``: money went back to the customer."""

    TOPIC = topics.RETURNS_REFUNDED

    amount_paise: Paise
    refund_id: NonEmptyStr
    method: PaymentMethod
    refund_mode: Literal["gateway_refund", "payout", "store_credit"] | None = Field(
        default=None,
        description="How the money went back: the gateway's refund of the original payment, a "
        "bank or UPI payout (COD), or store credit.",
    )
    shipping_fee_paise: Paise | None = Field(
        default=None, description="Part of amount_paise that refunds the order's shipping fee."
    )
    kind: Literal["return", "rto"] | None = Field(
        default=None,
        description="return (absent means this too): a customer's return; rto: a parcel that came "
        "back undelivered (invoicing credits an RTO from the courier's RTO_DELIVERED, not from this).",
    )


class ReturnExchangeRequested(Event):
    """``returns.exchange_requested.v1``: a return is settled by sending replacements; orders places
    the replacement order from it, once per return.

    The replacement is paid for by the units sent back: orders places it as an ``exchange`` order
    (channel order id = ``return_id``) with the lines' value as its discount, so it costs nothing.
    Returns never writes ``channel.orders.v1``, which belongs to the channels (ADR 0231).
    """

    TOPIC = topics.RETURNS_EXCHANGE_REQUESTED

    order_id: NonEmptyStr = Field(description="The order the units were returned from.")
    return_id: NonEmptyStr
    lines: list[OrderLine] = Field(
        min_length=1,
        description="The replacement units, each at the returned unit's price (like for like).",
    )
    customer: Customer = Field(description="Who gets the replacement: the original order's customer.")
    shipping_address: Address = Field(description="Where it goes: the original order's address.")
    payment_method: PaymentMethod = Field(description="How the original order was paid.")
    occurred_at: UtcDatetime = Field(default_factory=utcnow)
