"""Shiprocket (aggregator) adapter: login, adhoc order + AWB assignment, cancel, track, NDR, webhooks.

Shiprocket authenticates with a bearer token from POST /v1/external/auth/login (email, password);
the token is kept and fetched again once on a 401. Booking is two calls: create the adhoc order
(our shipment id as ``order_id``), then assign an AWB to its ``shipment_id``. Webhooks carry the
token registered in Shiprocket's panel in the ``x-api-key`` header.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import httpx

from chassis.clock import IST
from contracts import ShipmentStatus
from services.shipping.couriers.common import (
    BearerSession,
    check_token,
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
    Handover,
    NdrAction,
    NdrActionKind,
    ShipmentRequest,
    WebhookRefused,
)

S = ShipmentStatus

# Shiprocket's shipment status ids (``current_status_id`` / ``sr-status``) → canonical.
STATUS_MAP: dict[int, ShipmentStatus | None] = {
    1: None,  # NEW
    5: None,  # MANIFEST GENERATED
    6: S.IN_TRANSIT,  # SHIPPED
    7: S.DELIVERED,
    8: S.CANCELLED,
    9: S.RTO_INITIATED,
    10: S.RTO_DELIVERED,
    12: S.LOST,
    13: None,  # PICKUP ERROR
    14: S.RTO_INITIATED,  # RTO ACKNOWLEDGED
    15: None,  # PICKUP RESCHEDULED
    17: S.OUT_FOR_DELIVERY,
    18: S.IN_TRANSIT,
    19: None,  # OUT FOR PICKUP
    20: None,  # PICKUP EXCEPTION
    21: S.NDR,  # UNDELIVERED
    22: S.IN_TRANSIT,  # DELAYED (never moves a parcel back: updates are forward-only)
    24: S.LOST,  # DESTROYED
    25: S.LOST,  # DAMAGED: it will not arrive; the seller claims it like a lost one
    38: S.IN_TRANSIT,  # REACHED AT DESTINATION HUB
    40: S.RTO_IN_TRANSIT,  # RTO NDR: the warehouse missed the returning parcel; not a customer NDR
    41: S.RTO_IN_TRANSIT,  # RTO OFD
    42: S.PICKED_UP,
    46: S.RTO_IN_TRANSIT,
}
"""Ids as Shiprocket's tracking and webhook payloads send them (apiv2 ``current_status_id``); ids not
listed are recorded with the shipment's tracking and move nothing."""
NDR_ACTIONS = {
    NdrActionKind.REATTEMPT: "re-attempt",
    NdrActionKind.NEW_ADDRESS: "re-attempt",
    NdrActionKind.NEW_PHONE: "re-attempt",
    NdrActionKind.RTO: "return",
}


def read_time(text: str | None) -> datetime:
    """Shiprocket's IST timestamps: ``2026-11-26 10:15:00`` or ``26 11 2026 10:15:00``; a scan with
    one it cannot read is taken as now rather than refused."""
    try:
        return read_ist(text, formats=("%d %m %Y %H:%M:%S",))
    except ValueError:
        return datetime.now(UTC)


def scan_of(
    awb: str,
    status_id: int,
    label: str,
    at: str | None,
    location: str | None,
    activity: str | None,
    attempt: int | None = None,
) -> CourierScan:
    status = STATUS_MAP.get(status_id)
    return CourierScan(
        awb=awb,
        code=f"{status_id}:{label}",
        status=status,
        occurred_at=read_time(at),
        location=location or None,
        ndr_reason=ndr_reason_from_text(activity) if status is S.NDR else None,
        attempt=attempt,
        remark=activity or None,
    )


def adhoc_order(request: ShipmentRequest) -> dict[str, Any]:
    """The body of POST /v1/external/orders/create/adhoc (or return for a reverse pickup)."""
    address = request.address
    first, _, last = request.consignee_name.partition(" ")
    return {
        "order_id": request.reference,
        "order_date": datetime.now(IST).strftime("%Y-%m-%d %H:%M"),
        "pickup_location": request.pickup_location,
        "billing_customer_name": first,
        "billing_last_name": last,
        "billing_address": address.line1,
        "billing_address_2": ", ".join(p for p in (address.line2, address.landmark) if p),
        "billing_city": address.city,
        "billing_pincode": address.pincode,
        "billing_state": address.state,
        "billing_country": "India",
        "billing_phone": national_number(request.consignee_phone),
        "shipping_is_billing": True,
        "order_items": [
            {"name": item.sku, "sku": item.sku, "units": item.quantity, "selling_price": 0}
            for item in request.items
        ],
        "payment_method": "COD" if request.is_cod else "Prepaid",
        "sub_total": rupees(request.cod_amount_paise if request.is_cod else request.value_paise),
        "length": request.length_cm,
        "breadth": request.breadth_cm,
        "height": request.height_cm,
        "weight": round(request.weight_grams / 1000, 3),
    }


class ShiprocketCourier:
    """CourierAdapter over Shiprocket's external API (or the sandbox's copy of it)."""

    name = "shiprocket"

    def __init__(
        self, client: httpx.AsyncClient, *, email: str, password: str, webhook_token: str = ""
    ) -> None:
        self._email = email
        self._password = password
        self._webhook_token = webhook_token
        self._session = BearerSession(
            client, courier=self.name, login=self._fetch_token, refusals=frozenset({400, 422})
        )

    async def _fetch_token(self, session: BearerSession) -> str:
        body = await session.send(
            "POST", "/v1/external/auth/login", None, json={"email": self._email, "password": self._password}
        )
        if not body.get("token"):
            raise CourierUnavailable(f"{self.name} login failed: {body.get('message') or body}")
        return str(body["token"])

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self._session.call(method, path, **kwargs)

    async def create_shipment(self, request: ShipmentRequest) -> CourierBooking:
        """Create the adhoc (or return) order, then assign an AWB to its shipment."""
        path = "/v1/external/orders/create/return" if request.reverse else "/v1/external/orders/create/adhoc"
        order = await self._call("POST", path, json=adhoc_order(request))
        shipment_id = order.get("shipment_id")
        if not shipment_id:
            raise CourierRejected(
                f"shiprocket refused order {request.reference}: {order.get('message') or order}",
                remarks=(str(order.get("message") or order),),
            )
        if order.get("awb_code"):
            awb, routing = str(order["awb_code"]), order.get("routing_code")
        else:
            assigned = await self._call(
                "POST",
                "/v1/external/courier/assign/awb",
                json={"shipment_id": shipment_id, "is_return": int(request.reverse)},
            )
            data = (assigned.get("response") or {}).get("data") or {}
            if assigned.get("awb_assign_status") != 1 or not data.get("awb_code"):
                message = str(assigned.get("message") or data.get("awb_assign_error") or assigned)
                raise CourierRejected(
                    f"shiprocket gave no AWB for {request.reference}: {message}", remarks=(message,)
                )
            awb, routing = str(data["awb_code"]), data.get("routing_code")
        return CourierBooking(
            courier=self.name,
            awb=awb,
            reference=request.reference,
            routing_code=routing,
            courier_ref=str(shipment_id),
        )

    async def request_pickup(self, *, warehouse_code: str, pickup_date: date, parcels: list[Handover]) -> str:
        """POST /v1/external/courier/generate/pickup for Shiprocket's shipment ids of these parcels."""
        ids = [int(p.courier_ref) for p in parcels if p.courier_ref]
        if len(ids) != len(parcels):
            raise CourierRejected("shiprocket needs its shipment_id for every parcel in a pickup")
        body = await self._call(
            "POST",
            "/v1/external/courier/generate/pickup",
            json={"shipment_id": ids, "pickup_date": [pickup_date.isoformat()]},
        )
        if body.get("pickup_status") != 1:
            raise CourierRejected(f"shiprocket refused the pickup: {body.get('message') or body}")
        return str((body.get("response") or {}).get("pickup_token_number") or "")

    async def cancel(self, awb: str) -> None:
        """Cancel by AWB."""
        await self._call("POST", "/v1/external/orders/cancel/shipment/awbs", json={"awbs": [awb]})

    async def update_consignee(self, parcel: Handover, consignee: Consignee) -> None:
        """POST /v1/external/orders/address/update ("Update Customer Delivery Address") for
        Shiprocket's order id, read from the shipment we keep (GET /v1/external/shipments/{id})."""
        if not parcel.courier_ref:
            raise CourierRejected(f"shiprocket needs its shipment_id to edit {parcel.awb}")
        shipment = await self._call("GET", f"/v1/external/shipments/{parcel.courier_ref}")
        order_id = (shipment.get("data") or {}).get("order_id")
        if not order_id:
            raise CourierRejected(f"shiprocket has no order for shipment {parcel.courier_ref}: {shipment}")
        address = consignee.address
        answer = await self._call(
            "POST",
            "/v1/external/orders/address/update",
            json={
                "order_id": order_id,
                "shipping_customer_name": consignee.name,
                "shipping_phone": national_number(consignee.phone),
                "shipping_address": address.line1,
                "shipping_address_2": ", ".join(p for p in (address.line2, address.landmark) if p),
                "shipping_city": address.city,
                "shipping_state": address.state,
                "shipping_country": "India",
                "shipping_pincode": address.pincode,
            },
        )
        if answer.get("status_code") not in (None, 200):
            raise CourierRejected(f"shiprocket would not update the address of {parcel.awb}: {answer}")

    async def track(self, awb: str) -> list[CourierScan]:
        """The shipment's activities, oldest first."""
        body = await self._call("GET", f"/v1/external/courier/track/awb/{awb}")
        activities = (body.get("tracking_data") or {}).get("shipment_track_activities") or []
        scans = [
            scan_of(
                awb,
                int(a.get("sr-status") or 0),
                str(a.get("sr-status-label") or ""),
                a.get("date"),
                a.get("location"),
                a.get("activity"),
            )
            for a in activities
        ]
        return sorted(scans, key=lambda s: s.occurred_at)

    async def ndr_action(self, awb: str, action: NdrAction) -> None:
        """POST /v1/external/ndr/{awb}/action."""
        body: dict[str, Any] = {
            "action": NDR_ACTIONS[action.kind],
            "comments": action.remark or action.kind.value,
        }
        if action.reattempt_on is not None:
            body["deferred_date"] = action.reattempt_on.isoformat()
        if action.new_phone:
            body["phone"] = national_number(action.new_phone)
        if action.new_address is not None:
            body["address1"] = action.new_address.line1
            body["address2"] = action.new_address.line2 or ""
        answer = await self._call("POST", f"/v1/external/ndr/{awb}/action", json=body)
        if answer.get("status_code") not in (None, 200) and not answer.get("success", True):
            raise CourierError(f"shiprocket refused NDR action on {awb}: {answer}")

    def read_webhook(self, headers: Mapping[str, str], body: bytes) -> list[CourierScan]:
        """One push: every scan it lists (``sr-status``) and its own status, oldest first.

        The push's status is ``shipment_status_id`` (the shipment status table of STATUS_MAP);
        ``current_status_id`` is read only when a push has no ``shipment_status_id``.
        """
        check_token(headers, "x-api-key", self._webhook_token)
        try:
            payload = json.loads(body)
            awb = str(payload["awb"])
            pushed = payload.get("shipment_status_id")
            status_id = int(pushed if pushed not in (None, "") else payload["current_status_id"])
            listed = [s for s in payload.get("scans") or [] if isinstance(s, dict)]
            scans = [
                scan_of(
                    awb,
                    int(s["sr-status"]),
                    str(s.get("sr-status-label") or ""),
                    s.get("date"),
                    s.get("location"),
                    s.get("activity"),
                )
                for s in listed
                if str(s.get("sr-status") or "").strip().isdigit()
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRefused(f"not a Shiprocket status push: {exc!r}", status=400) from exc
        latest = listed[-1] if listed else {}
        if not scans or scans[-1].code.split(":", 1)[0] != str(status_id):
            label = payload.get("shipment_status") or payload.get("current_status")
            scans.append(
                scan_of(
                    awb,
                    status_id,
                    str(label or ""),
                    payload.get("current_timestamp"),
                    latest.get("location"),
                    latest.get("activity") or label,
                    attempt=int(payload["attempt"]) if payload.get("attempt") else None,
                )
            )
        return sorted(scans, key=lambda s: s.occurred_at)
