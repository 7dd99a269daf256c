"""Razorpay webhooks read as plain data: signature check and what a payload says about which order.

Razorpay signs the raw body with HMAC-SHA256 (hex) under the webhook secret, in X-Razorpay-Signature;
x-razorpay-event-id identifies a delivery so a replay is recognised. Payment and refund entities
carry our order id in `notes.order_id` (set when the Razorpay order was created).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chassis.signatures import hmac_sha256_hex, signed_by
from contracts import PaymentStatus
from contracts.values import Payment

CURRENCY = "INR"
"""Every order is priced in rupees; a payment in any other currency pays none of it."""

HANDLED = {
    "payment.authorized": PaymentStatus.AUTHORIZED,
    "payment.captured": PaymentStatus.CAPTURED,
    "payment.failed": PaymentStatus.FAILED,
    "refund.processed": PaymentStatus.REFUNDED,
}
"""The webhook events that move a payment, and the status each reports."""


def sign(secret: str, body: bytes) -> str:
    """The signature Razorpay sends for this body (hex HMAC-SHA256)."""
    return hmac_sha256_hex(secret, body)


def signature_ok(secret: str, body: bytes, signature: str | None) -> bool:
    """Whether the signature is Razorpay's for this exact body (constant-time compare)."""
    return signed_by(secret, body, signature)


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


class UnreadableWebhook(ValueError):
    """A signed body that does not have the shape Razorpay documents (field: what is wrong)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


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
