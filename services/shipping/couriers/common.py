"""What several courier adapters share: money and phone formats, NDR reason words, webhook checks."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from contracts import NdrReason
from services.shipping.couriers.interface import WebhookRefused


def rupees(paise: int) -> float:
    """Couriers take rupees with two decimals."""
    return round(paise / 100, 2)


def national_number(e164: str) -> str:
    """The 10-digit Indian number, without +91, as every Indian courier wants it."""
    digits = "".join(ch for ch in e164 if ch.isdigit())
    return digits[-10:]


# Couriers describe a failed attempt in free text; these phrases (checked in order) map it to the
# taxonomy. "phone" comes before "unavailable" because "phone not reachable / customer unavailable"
# is about the phone.
_NDR_PHRASES: tuple[tuple[tuple[str, ...], NdrReason], ...] = (
    (("out of delivery area", "non serviceable", "out of area"), NdrReason.OUT_OF_DELIVERY_AREA),
    (("phone", "not reachable", "unreachable", "switched off", "not answering"), NdrReason.PHONE_UNREACHABLE),
    (("cash not ready", "cod amount not ready", "no cash", "cash"), NdrReason.CASH_NOT_READY),
    (
        ("future delivery", "reschedule", "deliver later", "requested delay"),
        NdrReason.FUTURE_DELIVERY_REQUESTED,
    ),
    (("refused", "rejected", "did not accept", "cancel"), NdrReason.REFUSED),
    (("address", "incomplete", "wrong", "not found", "landmark"), NdrReason.WRONG_OR_INCOMPLETE_ADDRESS),
    (
        ("unavailable", "not available", "door locked", "premises closed", "not at home"),
        NdrReason.CUSTOMER_UNAVAILABLE,
    ),
)


def ndr_reason_from_text(text: str | None) -> NdrReason:
    """The taxonomy reason for a courier's free-text NDR remark (OTHER when nothing matches)."""
    lowered = (text or "").lower()
    for phrases, reason in _NDR_PHRASES:
        if any(p in lowered for p in phrases):
            return reason
    return NdrReason.OTHER


def check_token(headers: Mapping[str, str], header: str, expected: str, *, prefix: str = "") -> None:
    """A static webhook token in ``header`` (optionally after ``prefix``), compared in constant time."""
    presented = headers.get(header.lower()) or headers.get(header) or ""
    if prefix:
        if not presented.startswith(prefix):
            raise WebhookRefused(f"{header} must be '{prefix}<token>'")
        presented = presented[len(prefix) :]
    if not presented:
        raise WebhookRefused(f"missing {header}")
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise WebhookRefused(f"{header} does not match")
