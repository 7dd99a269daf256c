"""Razorpay webhooks read as plain data: signature check and what a payload says about which order.

Razorpay signs the raw body with HMAC-SHA256 (hex) under the webhook secret, in X-Razorpay-Signature.
A delivery is known again by what the signed body says (event, entity ids, the event's `created_at`),
not by the unsigned x-razorpay-event-id header, and an event older than Razorpay's retry period is
not applied (ADR 221). Payment and refund entities carry our order id in `notes.order_id` (set when
the Razorpay order was created).

Shapes from Razorpay's own documentation (razorpay/markdown-docs): webhooks/payments.md (sample
payloads, the event's top-level `created_at` in Unix seconds), webhooks/best-practices.md (retries
for 24 hours after the event's creation), webhooks/validate-test.md (the signature).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chassis.razorpay import (
    RETRIED_FOR,
    UnreadableWebhook,
    delivery_key,
    event_time,
    sign,
    signature_ok,
    too_old_or_early,
)
from contracts import PaymentStatus
from contracts.values import Payment

# The envelope (signature, delivery key, retry period) is chassis.razorpay's, shared with returns.
__all__ = [
    "CURRENCY",
    "HANDLED",
    "RETRIED_FOR",
    "GatewayEvent",
    "UnreadableWebhook",
    "delivery_key",
    "event_time",
    "not_acted_on",
    "read_webhook",
    "refund_status",
    "sign",
    "signature_ok",
    "too_old_or_early",
]

CURRENCY = "INR"
"""Every order is priced in rupees; a payment in any other currency pays none of it."""

HANDLED = {
    "payment.authorized": PaymentStatus.AUTHORIZED,
    "payment.captured": PaymentStatus.CAPTURED,
    "payment.failed": PaymentStatus.FAILED,
    "refund.processed": PaymentStatus.REFUNDED,
}
"""The webhook events that move a payment, and the status each reports."""


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    """What one webhook says: which payment, for which order, what happened, how much."""

    event: str
    status: PaymentStatus
    payment_id: str
    order_ref: str | None
    amount_paise: int
    refund_id: str | None = None
    failure_reason: str | None = None
    method: str | None = None
    currency: str | None = CURRENCY


def _entity(payload: dict[str, Any], name: str) -> dict[str, Any]:
    entity = ((payload.get(name) or {}).get("entity")) if isinstance(payload.get(name), dict) else None
    if not isinstance(entity, dict):
        raise UnreadableWebhook(f"payload.{name}.entity", "missing")
    return entity


def _order_ref(*entities: dict[str, Any]) -> str | None:
    for entity in entities:
        notes = entity.get("notes")
        if isinstance(notes, dict) and isinstance(notes.get("order_id"), str) and notes["order_id"]:
            return str(notes["order_id"])
    return None


def _amount(entity: dict[str, Any], field: str) -> int:
    amount = entity.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise UnreadableWebhook(field, "must be a whole number of paise")
    return amount


def read_webhook(body: Any) -> GatewayEvent | None:
    """The payment change a webhook body reports; None for an event type we do not act on."""
    if not isinstance(body, dict) or not isinstance(body.get("event"), str):
        raise UnreadableWebhook("event", "missing")
    event = body["event"]
    if event not in HANDLED:
        return None
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise UnreadableWebhook("payload", "missing")
    payment = _entity(payload, "payment")
    payment_id = payment.get("id")
    if not isinstance(payment_id, str) or not payment_id:
        raise UnreadableWebhook("payload.payment.entity.id", "missing")
    if event == "refund.processed":
        refund = _entity(payload, "refund")
        refund_id = refund.get("id")
        if not isinstance(refund_id, str) or not refund_id:
            raise UnreadableWebhook("payload.refund.entity.id", "missing")
        return GatewayEvent(
            event=event,
            status=PaymentStatus.REFUNDED,
            payment_id=payment_id,
            order_ref=_order_ref(refund, payment),
            amount_paise=_amount(refund, "payload.refund.entity.amount"),
            refund_id=refund_id,
            currency=_currency(refund),
        )
    return GatewayEvent(
        event=event,
        status=HANDLED[event],
        payment_id=payment_id,
        order_ref=_order_ref(payment),
        amount_paise=_amount(payment, "payload.payment.entity.amount"),
        failure_reason=payment.get("error_description") if event == "payment.failed" else None,
        method=payment.get("method") if isinstance(payment.get("method"), str) else None,
        currency=_currency(payment),
    )


def _currency(entity: dict[str, Any]) -> str | None:
    currency = entity.get("currency")
    return currency if isinstance(currency, str) else None


def not_acted_on(event: GatewayEvent, payment: Payment) -> str | None:
    """Why a genuine, signed event must still not move this order's payment; None when it may.

    Not rupees: it pays nothing of an order priced in rupees. A failure of an earlier attempt
    arriving after another attempt was authorized: the customer paid with the second attempt, and
    Razorpay does not promise to deliver events in order."""
    if event.currency != CURRENCY:
        return f"the amount is in {event.currency or 'no currency'}, not {CURRENCY}"
    earlier = payment.gateway_payment_id is not None and event.payment_id != payment.gateway_payment_id
    if event.status is PaymentStatus.FAILED and payment.status is PaymentStatus.AUTHORIZED and earlier:
        return f"it is an earlier attempt; {payment.gateway_payment_id} is authorized"
    return None


def refund_status(refunded_paise: int, paid_paise: int) -> PaymentStatus:
    """Full once the refunds add up to what was paid."""
    return PaymentStatus.REFUNDED if refunded_paise >= paid_paise else PaymentStatus.PARTIALLY_REFUNDED
