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
from datetime import UTC, datetime, timedelta
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

RETRIED_FOR = timedelta(hours=24)
"""Razorpay retries a delivery for 24 hours after the event was created (webhooks/best-practices.md)."""


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


def event_time(body: Any) -> datetime:
    """When Razorpay created the event: the body's top-level `created_at` (Unix seconds)."""
    created = body.get("created_at") if isinstance(body, dict) else None
    if not isinstance(created, int) or isinstance(created, bool) or created <= 0:
        raise UnreadableWebhook("created_at", "must be the event's creation time in Unix seconds")
    try:
        return datetime.fromtimestamp(created, UTC)
    except (OverflowError, OSError, ValueError):
        raise UnreadableWebhook("created_at", "is not a time") from None


def delivery_key(body: Any) -> str:
    """What identifies one event, read from the signed body: its type, the id of every entity it
    contains and its creation time. A retry of the event carries the same; a replay under a new
    x-razorpay-event-id header does too, so it is recognised."""
    if not isinstance(body, dict) or not isinstance(body.get("event"), str):
        raise UnreadableWebhook("event", "missing")
    payload: dict[str, Any] = body["payload"] if isinstance(body.get("payload"), dict) else {}
    ids = []
    for name in sorted(payload):
        entity = payload[name].get("entity") if isinstance(payload[name], dict) else None
        if isinstance(entity, dict) and isinstance(entity.get("id"), str):
            ids.append(f"{name}={entity['id']}")
    created = int(event_time(body).timestamp())
    return f"{body['event']}:{','.join(ids)}@{created}"


def too_old_or_early(created_at: datetime, *, now: datetime, skew: timedelta) -> str | None:
    """Why an event's creation time rules it out, or None: older than Razorpay ever retries (a
    replay of a captured delivery), or ahead of our clock by more than `skew`."""
    if created_at > now + skew:
        return f"is {created_at.isoformat()}, ahead of this service's clock by more than {skew}"
    if created_at < now - RETRIED_FOR - skew:
        return f"is {created_at.isoformat()}, older than Razorpay retries a delivery ({RETRIED_FOR})"
    return None


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
