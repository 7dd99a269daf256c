"""Razorpay's webhook envelope, shared by every service Razorpay calls (orders: payments; returns:
refunds and payouts): the signature, what identifies one event, and the period in which it may come.

Razorpay signs the raw body with HMAC-SHA256 (hex) under the webhook secret, in X-Razorpay-Signature
(webhooks/validate-test.md). Every event carries its top-level `created_at` in Unix seconds
(webhooks/payments.md samples), and Razorpay retries a delivery for 24 hours after it
(webhooks/best-practices.md). A delivery is known by what the signed body says, not by the unsigned
x-razorpay-event-id header (ADR 221).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chassis.signatures import hmac_sha256_hex, signed_by

RETRIED_FOR = timedelta(hours=24)
"""Razorpay retries a delivery for 24 hours after the event was created (webhooks/best-practices.md)."""


def sign(secret: str, body: bytes) -> str:
    """The signature Razorpay sends for this body (hex HMAC-SHA256)."""
    return hmac_sha256_hex(secret, body)


def signature_ok(secret: str, body: bytes, signature: str | None) -> bool:
    """Whether the signature is Razorpay's for this exact body (constant-time compare)."""
    return signed_by(secret, body, signature)


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
