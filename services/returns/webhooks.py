"""Razorpay's refund and payout webhooks: verified by their signature before anything is read,
refused outside Razorpay's retry window, applied once (ADR 221)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel

from chassis import razorpay, text
from chassis.auth import by_signature
from chassis.logging import get_logger
from chassis.refusal import Refusal
from contracts._base import utcnow
from services.returns import refunds

log = get_logger(__name__)

router = APIRouter(tags=["webhooks"])


class WebhookOutcome(BaseModel):
    """What the event did: applied, already applied or ignored."""

    status: str


async def _razorpay_signed(request: Request) -> bytes:
    """The raw body, when X-Razorpay-Signature is Razorpay's signature of it; 401 otherwise."""
    raw = await request.body()
    secret = request.app.state.service.settings.razorpay_webhook_secret
    if not razorpay.signature_ok(secret, raw, request.headers.get("X-Razorpay-Signature")):
        raise Refusal("X-Razorpay-Signature", "does not match the body", status=401, error="unauthorized")
    return raw


@router.post(
    "/webhooks/razorpay",
    summary="Razorpay refund and payout events",
    description="Signed by Razorpay (`X-Razorpay-Signature`, hex HMAC-SHA256 of the raw body)."
    " An event whose "
    "`created_at` is older than Razorpay's 24 hours of retries, or ahead of this clock, is refused with 422 "
    "naming `created_at` and applied to nothing.",
    response_model=WebhookOutcome,
)
async def razorpay_webhook(
    request: Request, raw: Annotated[bytes, by_signature("razorpay", _razorpay_signed)]
) -> dict[str, str]:
    service = request.app.state.service
    try:
        event = text.parsed(raw)
    except text.MalformedJson as exc:
        raise Refusal("body", str(exc)) from None
    if not isinstance(event, dict):
        raise Refusal("body", "not a JSON object")
    try:
        created_at = razorpay.event_time(event)
    except razorpay.UnreadableWebhook as exc:
        raise Refusal(exc.field, exc.problem) from None
    skew = timedelta(seconds=service.settings.razorpay_webhook_skew_seconds)
    if (untimely := razorpay.too_old_or_early(created_at, now=utcnow(), skew=skew)) is not None:
        # A signed body seen once (a log, a proxy) and sent again after Razorpay's retries have ended:
        # applied to nothing (ADR 221, as in orders).
        log.warning("razorpay webhook out of its time window", razorpay_event=event.get("event"))
        raise Refusal("created_at", untimely)
    outcome = await refunds.apply_webhook(service, event)
    log.info("razorpay webhook", razorpay_event=event.get("event"), outcome=outcome)
    return {"status": outcome}
