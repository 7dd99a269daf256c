"""What several courier adapters share: money and phone formats, NDR reason words, webhook checks,
and a logged-in session for the couriers whose API wants a bearer token."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from chassis.clock import IST
from contracts import NdrReason
from services.shipping.couriers.interface import (
    CourierRejected,
    CourierScan,
    CourierUnavailable,
    WebhookRefused,
)


def read_ist(text: str | None, *, formats: tuple[str, ...] = ()) -> datetime:
    """A courier's timestamp as aware UTC: ISO 8601 (or one of ``formats``), read as IST when it
    carries no offset; now when there is none. ValueError when nothing parses it."""
    if not text:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        for fmt in formats:
            try:
                at = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise
    return (at if at.tzinfo else at.replace(tzinfo=IST)).astimezone(UTC)


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


class TokenExpired(CourierUnavailable):
    """A 401 on a call: the cached token expired."""


class BearerSession:
    """JSON calls to a courier API behind a login (Shiprocket, Xpressbees): the token is fetched once
    for concurrent callers, sent as a bearer token, and fetched again, once, when a call gets 401.

    Transport errors, 5xx and non-JSON answers are CourierUnavailable (try the next courier); the
    statuses in ``refusals`` are CourierRejected (this booking will not work with this courier)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        courier: str,
        login: Callable[[BearerSession], Awaitable[str]],
        refusals: frozenset[int] = frozenset(),
    ) -> None:
        self._client = client
        self._courier = courier
        self._login = login
        self._refusals = refusals
        self._token: str | None = None
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        """The cached token, logging in first when there is none."""
        async with self._lock:
            if self._token is None:
                self._token = await self._login(self)
            return self._token

    async def send(self, method: str, path: str, token: str | None, **kwargs: Any) -> Any:
        """One request; its JSON answer, or the courier's failure as an exception."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = await self._client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise CourierUnavailable(f"{self._courier} unreachable: {exc!r}") from exc
        if response.status_code == 401:
            raise TokenExpired(f"{self._courier} refused the token (401)")
        if response.status_code in self._refusals:
            raise CourierRejected(
                f"{self._courier} refused {path}: {response.text[:300]}", remarks=(response.text[:300],)
            )
        if response.status_code >= 300:
            raise CourierUnavailable(
                f"{self._courier} answered HTTP {response.status_code}: {response.text[:300]}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise CourierUnavailable(f"{self._courier} answered non-JSON: {response.text[:300]}") from exc

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request with the token; after a 401, log in again and retry once."""
        try:
            return await self.send(method, path, await self.token(), **kwargs)
        except TokenExpired:
            self._token = None  # tokens expire after days
            return await self.send(method, path, await self.token(), **kwargs)


def in_time_order(scans: list[CourierScan]) -> list[CourierScan]:
    """A push's scans oldest first, each once: a push that lists its scans and repeats the latest
    as its own status (same code, same time) yields it once (ADR 118, 172)."""
    seen: set[tuple[str, datetime]] = set()
    ordered: list[CourierScan] = []
    for scan in sorted(scans, key=lambda s: s.occurred_at):
        if (scan.code, scan.occurred_at) not in seen:
            seen.add((scan.code, scan.occurred_at))
            ordered.append(scan)
    return ordered
