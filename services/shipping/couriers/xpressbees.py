"""Xpressbees adapter: login, book (shipments2), cancel, track, NDR (ndr/create), signed webhooks.

Xpressbees authenticates with a bearer token from POST /api/users/login (email, password), fetched
again once on a 401. Webhooks are signed: HMAC-SHA256 of the raw body with the shared secret, hex,
in ``X-Xb-Signature``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

import httpx

from chassis.signatures import hmac_sha256_hex, signed_by
from contracts import ShipmentStatus
from services.shipping.couriers.common import (
    BearerSession,
    in_time_order,
    national_number,
    ndr_reason_from_text,
    read_ist,
    rupees,
)
from services.shipping.couriers.interface import (
    Consignee,
    CourierBooking,
    CourierError,
    CourierRejected,
    CourierScan,
    CourierUnavailable,
    EditUnsupported,
    Handover,
    NdrAction,
    NdrActionKind,
    ShipmentRequest,
    WebhookRefused,
)

SIGNATURE_HEADER = "x-xb-signature"
S = ShipmentStatus

# Xpressbees status codes → canonical.
STATUS_MAP: dict[str, ShipmentStatus | None] = {
    "PP": None,  # pending pickup
    "PU": S.PICKED_UP,
    "IT": S.IN_TRANSIT,
    "RAD": S.IN_TRANSIT,  # reached at destination hub
    "OFD": S.OUT_FOR_DELIVERY,
    "DL": S.DELIVERED,
    "EX": S.NDR,  # exception: the delivery attempt failed
    "RT": S.RTO_INITIATED,
    "RT-IT": S.RTO_IN_TRANSIT,
    "RT-DL": S.RTO_DELIVERED,
    "LT": S.LOST,
    "CN": S.CANCELLED,
}
NDR_ACTIONS = {
    NdrActionKind.REATTEMPT: "re-attempt",
    NdrActionKind.NEW_ADDRESS: "change_address",
    NdrActionKind.NEW_PHONE: "change_phone",
    NdrActionKind.RTO: "rto",
}


def read_event(awb: str, event: Mapping[str, Any]) -> CourierScan:
    code = str(event.get("status_code") or "")
    status = STATUS_MAP.get(code)
    message = str(event.get("message") or "") or None
    return CourierScan(
        awb=awb,
        code=code,
        status=status,
        occurred_at=read_ist(event.get("event_time")),
        location=str(event.get("location") or "") or None,
        ndr_reason=ndr_reason_from_text(event.get("ndr_reason") or message) if status is S.NDR else None,
        attempt=int(event["attempt"]) if event.get("attempt") else None,
        remark=message,
    )


def sign(secret: str, body: bytes) -> str:
    """The webhook signature Xpressbees sends (and the sandbox makes)."""
    return hmac_sha256_hex(secret, body)


def booking(request: ShipmentRequest) -> dict[str, Any]:
    """The body of POST /api/shipments2."""
    address = request.address
    return {
        "order_number": request.reference,
        "payment_type": "reverse" if request.reverse else ("cod" if request.is_cod else "prepaid"),
        "order_amount": rupees(request.value_paise),
        "collectable_amount": rupees(request.cod_amount_paise),
        "package_weight": request.weight_grams,
        "package_length": request.length_cm,
        "package_breadth": request.breadth_cm,
        "package_height": request.height_cm,
        "request_auto_pickup": "yes",
        "consignee": {
            "name": request.consignee_name,
            "address": address.line1,
            "address_2": ", ".join(p for p in (address.line2, address.landmark) if p),
            "city": address.city,
            "state": address.state,
            "pincode": address.pincode,
            "phone": national_number(request.consignee_phone),
        },
        "pickup": {"warehouse_name": request.pickup_location},
        "order_items": [{"name": i.sku, "sku": i.sku, "qty": i.quantity, "price": 0} for i in request.items],
    }


class XpressbeesCourier:
    """CourierAdapter over Xpressbees' shipment API (or the sandbox's copy of it)."""

    name = "xpressbees"

    def __init__(
        self, client: httpx.AsyncClient, *, email: str, password: str, webhook_secret: str = ""
    ) -> None:
        self._email = email
        self._password = password
        self._webhook_secret = webhook_secret
        self._session = BearerSession(
            client, courier=self.name, login=self._fetch_token, refusals=frozenset()
        )

    async def _fetch_token(self, session: BearerSession) -> str:
        body = await session.send(
            "POST", "/api/users/login", None, json={"email": self._email, "password": self._password}
        )
        if not body.get("status") or not body.get("data"):
            raise CourierUnavailable(f"{self.name} login failed: {body.get('message') or body}")
        return str(body["data"])

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self._session.call(method, path, **kwargs)

    async def create_shipment(self, request: ShipmentRequest) -> CourierBooking:
        """Book one parcel with auto pickup; see CourierAdapter.create_shipment."""
        body = await self._call("POST", "/api/shipments2", json=booking(request))
        data = body.get("data") or {}
        if body.get("status") and data.get("awb_number"):
            return CourierBooking(
                courier=self.name,
                awb=str(data["awb_number"]),
                reference=request.reference,
                routing_code=data.get("routing_code"),
                courier_ref=str(data["shipment_id"]) if data.get("shipment_id") else None,
            )
        message = str(body.get("message") or body)
        raise CourierRejected(
            f"xpressbees refused shipment {request.reference}: {message}", remarks=(message,)
        )

    async def request_pickup(self, *, warehouse_code: str, pickup_date: date, parcels: list[Handover]) -> str:
        """Nothing to call: every parcel is booked with ``request_auto_pickup``, so Xpressbees
        schedules the collection itself."""
        return "auto-pickup"

    async def cancel(self, awb: str) -> None:
        """Cancel by AWB."""
        body = await self._call("POST", "/api/shipments2/cancel", json={"awb": awb})
        if not body.get("status"):
            raise CourierRejected(f"xpressbees would not cancel {awb}: {body.get('message')}")

    async def update_consignee(self, parcel: Handover, consignee: Consignee) -> None:
        """Xpressbees documents no edit of a booked shipment (only NDR address changes after a
        failed attempt): the parcel is cancelled and booked again."""
        raise EditUnsupported(f"xpressbees cannot edit the consignee of {parcel.awb}: cancel and re-book")

    async def track(self, awb: str) -> list[CourierScan]:
        """The shipment's history, oldest first."""
        body = await self._call("GET", f"/api/shipments2/track/{awb}")
        history = (body.get("data") or {}).get("history") or []
        return sorted((read_event(awb, e) for e in history), key=lambda s: s.occurred_at)

    async def ndr_action(self, awb: str, action: NdrAction) -> None:
        """POST /api/ndr/create with one action."""
        data: dict[str, Any] = {}
        if action.reattempt_on is not None:
            data["re_attempt_date"] = action.reattempt_on.isoformat()
        if action.new_phone:
            data["phone"] = national_number(action.new_phone)
        if action.new_address is not None:
            data["address_1"] = action.new_address.line1
            data["address_2"] = action.new_address.line2 or ""
        body = await self._call(
            "POST",
            "/api/ndr/create",
            json=[{"awb": awb, "action": NDR_ACTIONS[action.kind], "action_data": data}],
        )
        results = body if isinstance(body, list) else [body]
        if not all(r.get("status") for r in results):
            raise CourierError(f"xpressbees refused NDR action on {awb}: {results}")

    def read_webhook(self, headers: Mapping[str, str], body: bytes) -> list[CourierScan]:
        """A status event (and any `history` it lists), signed with HMAC-SHA256 of the raw body."""
        presented = headers.get(SIGNATURE_HEADER) or ""
        if not presented:
            raise WebhookRefused(f"missing {SIGNATURE_HEADER}")
        if not signed_by(self._webhook_secret, body, presented):
            raise WebhookRefused(f"{SIGNATURE_HEADER} does not match the body")
        try:
            payload = json.loads(body)
            awb = str(payload["awb_number"])
            history = [dict(event) for event in payload.get("history") or []]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRefused(f"not an Xpressbees status event: {exc!r}", status=400) from exc
        # A push may carry the events that led here (`history`, the tracking API's shape): each is
        # applied, oldest first, so a pickup listed there still dispatches the stock (ADR 172).
        events = history + ([payload] if payload.get("status_code") else [])
        return in_time_order([read_event(awb, event) for event in events])
