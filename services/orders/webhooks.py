"""Payment gateway webhooks: Razorpay's, verified by its signature over the raw body.

A forged body is refused (401) and changes nothing, checked by the route's declaration before the
handler runs. A delivery is known again by its signed content (event, entity ids, `created_at`), in
the same transaction as its effect, and answered 200 "duplicate", so Razorpay stops retrying; an event
created longer ago than Razorpay retries, or ahead of our clock, is refused (ADR 221). A payment for
an order we do not know yet is kept, answered 200 "kept", and applied when the order arrives (ADR 116).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from chassis import text
from chassis.auth import by_signature
from chassis.clock import utcnow
from chassis.http import errors
from chassis.logging import get_logger
from chassis.refusal import Refusal
from services.orders import payments, store
from services.orders.domain import razorpay
from services.orders.lifecycle import Step
from services.orders.schemas import INVALID, WebhookAnswer
from services.orders.settings import OrdersSettings

router = APIRouter(tags=["webhooks"])
log = get_logger(__name__)

SIGNATURE = "X-Razorpay-Signature"
EVENT_ID = "x-razorpay-event-id"

_EXAMPLE = {
    "entity": "event",
    "account_id": "acc_BFQ7uQEaa7j2z7",
    "event": "payment.captured",
    "contains": ["payment"],
    "payload": {
        "payment": {
            "entity": {
                "id": "pay_DESlfW9H8K9uqM",
                "entity": "payment",
                "amount": 69800,
                "currency": "INR",
                "status": "captured",
                "order_id": "order_DESlLckIVRkHWj",
                "method": "upi",
                "notes": {"order_id": "ORD-019AC2E1F3A0-5E3B7A21"},
            }
        }
    },
    "created_at": 1567674606,
}


async def _verified(request: Request) -> bytes:
    """The raw body, when X-Razorpay-Signature is Razorpay's signature of it; 401 otherwise."""
    body = await request.body()
    secret = request.app.state.service.settings.razorpay_webhook_secret
    if not razorpay.signature_ok(secret, body, request.headers.get(SIGNATURE)):
        raise Refusal(
            SIGNATURE, "missing or not Razorpay's signature of this body", status=401, error="unauthorized"
        )
    return body


@router.post(
    "/webhooks/razorpay",
    summary="Razorpay webhooks: payment.authorized / captured / failed, refund.processed",
    description=f"Signed by Razorpay: `{SIGNATURE}` is the hex HMAC-SHA256 of the raw body under the webhook "
    f"secret. The event is known again by its signed content (event, entity ids, `created_at`), not by "
    f"`{EVENT_ID}`: a replay changes nothing, and an event older than Razorpay's 24 hours of retries is "
    "refused. The payment is linked to the order through `notes.order_id`, or the gateway payment id "
    "the order already carries.",
    response_model=WebhookAnswer,
    responses={
        **errors(401, descriptions={401: "Missing or wrong signature: nothing was changed"}),
        **INVALID,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}, "example": _EXAMPLE}},
        }
    },
    dependencies=[by_signature("razorpay", _verified)],
)
async def razorpay_webhook(request: Request) -> Any:
    settings = request.app.state.service.settings
    assert isinstance(settings, OrdersSettings)
    body = await request.body()
    try:
        parsed = text.parsed(body)
        event = razorpay.read_webhook(parsed)
        webhook_id = razorpay.delivery_key(parsed)
        created_at = razorpay.event_time(parsed)
    except text.MalformedJson as exc:
        raise Refusal("body", str(exc)) from None
    except ValueError as exc:
        field = exc.field if isinstance(exc, razorpay.UnreadableWebhook) else "body"
        problem = exc.problem if isinstance(exc, razorpay.UnreadableWebhook) else "not JSON"
        raise Refusal(field, problem) from None
    skew = timedelta(seconds=settings.razorpay_webhook_skew_seconds)
    if (untimely := razorpay.too_old_or_early(created_at, now=utcnow(), skew=skew)) is not None:
        # Not applied and not recorded: a replay learns nothing, and Razorpay retries one that was early.
        log.warning("razorpay webhook out of its time window", webhook_id=webhook_id, problem=untimely)
        raise Refusal("created_at", untimely)
    kind = str(parsed.get("event"))
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        if not await store.claim_webhook(conn, provider="razorpay", webhook_id=webhook_id, event=kind):
            log.info("razorpay webhook replayed", webhook_id=webhook_id)
            return JSONResponse(
                {"status": "duplicate", "order_id": None, "outcome": f"{webhook_id} was applied before"}
            )
        if event is None:
            order_id, outcome, status = None, f"{kind} is not acted on", "ignored"
        else:
            step = Step.direct(conn, settings, cause=f"razorpay {kind}", actor="razorpay")
            order_id, outcome = await payments.gateway_event(step, event)
            status = (
                "kept"
                if outcome.startswith("kept")
                else "ignored"
                if order_id is None or outcome.startswith("ignored")
                else "applied"
            )
        await store.webhook_outcome(
            conn, provider="razorpay", webhook_id=webhook_id, order_id=order_id, outcome=outcome
        )
    log.info(
        "razorpay webhook",
        webhook_id=webhook_id,
        razorpay_event_id=request.headers.get(EVENT_ID),
        webhook_event=kind,
        order_id=order_id,
        outcome=outcome,
    )
    return {"status": status, "order_id": order_id, "outcome": outcome}
