"""Payment progress of an order: gateway authorisation and capture, refunds, COD confirmation.

Written by the orders service (which owns payment state) from gateway webhooks and customer replies.
"""

from __future__ import annotations

from pydantic import Field

from contracts import topics
from contracts._base import Event, UtcDatetime, utcnow
from contracts.enums import PaymentEventStatus, PaymentMethod
from contracts.values import NonEmptyStr, Paise


class PaymentUpdated(Event):
    """``payments.updated.v1``: one step of an order's payment."""

    TOPIC = topics.PAYMENTS_UPDATED

    order_id: NonEmptyStr
    status: PaymentEventStatus
    method: PaymentMethod
    amount_paise: Paise
    gateway: str | None = None
    gateway_payment_id: str | None = None
    refund_id: str | None = None
    failure_reason: str | None = None
    occurred_at: UtcDatetime = Field(default_factory=utcnow)
