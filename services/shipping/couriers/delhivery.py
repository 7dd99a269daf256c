"""Delhivery B2C (CMU) adapter: book (create.json), edit and cancel (p/edit), track, NDR (p/update),
webhooks.

Form body ``format=json&data=<json>``, header ``Authorization: Token <token>``; the AWB is
``packages[0].waybill``. Our shipment id goes in ``order`` so a re-booking returns the same AWB.
Delhivery prints local Indian time without an offset; scans are read as IST.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

import httpx

from contracts import NdrReason, ShipmentStatus
from services.shipping.couriers.common import (
    check_token,
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
    Handover,
    NdrAction,
    NdrActionKind,
    ShipmentRequest,
    WebhookRefused,
)

CREATE_PATH = "/api/cmu/create.json"
EDIT_PATH = "/api/p/edit"
NDR_PATH = "/api/p/update"
TRACK_PATH = "/api/v1/packages/json/"
PICKUP_PATH = "/fm/request/new/"
S = ShipmentStatus

# (StatusType, Status) → canonical. UD = forward, RT = return to origin, DL = closed, CN = cancelled.
STATUS_MAP: dict[tuple[str, str], ShipmentStatus | None] = {
    ("UD", "Manifested"): None,
    ("UD", "Not Picked"): None,
    ("PP", "Open"): None,
    ("PP", "Scheduled"): None,
    ("PU", "Picked Up"): S.PICKED_UP,
    ("UD", "In Transit"): S.IN_TRANSIT,
    ("UD", "Pending"): S.IN_TRANSIT,
    ("UD", "Dispatched"): S.OUT_FOR_DELIVERY,
    ("DL", "Delivered"): S.DELIVERED,
    ("RT", "In Transit"): S.RTO_IN_TRANSIT,
    ("RT", "Pending"): S.RTO_IN_TRANSIT,
    ("RT", "Dispatched"): S.RTO_IN_TRANSIT,
    ("DL", "RTO"): S.RTO_DELIVERED,
    ("CN", "Cancelled"): S.CANCELLED,
    ("LT", "Lost"): S.LOST,
}
# NSL codes that say more than StatusType/Status: pickup, RTO initiation, and failed attempts.
CODE_MAP: dict[str, ShipmentStatus] = {
    "X-PPOM": S.PICKED_UP,
    "X-DDD3FD": S.OUT_FOR_DELIVERY,
    "RT-101": S.RTO_INITIATED,
}
NDR_CODES: dict[str, NdrReason] = {
    "EOD-11": NdrReason.CUSTOMER_UNAVAILABLE,
    "EOD-43": NdrReason.PHONE_UNREACHABLE,
    "EOD-69": NdrReason.CASH_NOT_READY,
    "EOD-3": NdrReason.FUTURE_DELIVERY_REQUESTED,
    "EOD-6": NdrReason.REFUSED,
    "EOD-111": NdrReason.WRONG_OR_INCOMPLETE_ADDRESS,
    "EOD-86": NdrReason.OUT_OF_DELIVERY_AREA,
    "EOD-74": NdrReason.OTHER,
}
NDR_ACTS = {
    NdrActionKind.REATTEMPT: "RE-ATTEMPT",
    NdrActionKind.NEW_ADDRESS: "EDIT_DETAILS",
    NdrActionKind.NEW_PHONE: "EDIT_DETAILS",
    NdrActionKind.RTO: "RTO",
}


def manifest(request: ShipmentRequest) -> dict[str, Any]:
    """The ``data`` object of a create.json call for one parcel."""
    address = request.address
    street = ", ".join(p for p in (address.line1, address.line2, address.landmark) if p)
    return {
        "shipments": [
            {
                "name": request.consignee_name,
                "add": street,
                "pin": address.pincode,
                "city": address.city,
                "state": address.state,
                "country": "India",
                "phone": national_number(request.consignee_phone),
                "order": request.reference,
                "payment_mode": "Pickup" if request.reverse else ("COD" if request.is_cod else "Prepaid"),
                "cod_amount": rupees(request.cod_amount_paise),
                "total_amount": rupees(request.value_paise),
                "products_desc": ", ".join(f"{i.sku} x{i.quantity}" for i in request.items),
                "quantity": sum(i.quantity for i in request.items),
                "weight": request.weight_grams,
                "shipment_length": request.length_cm,
                "shipment_width": request.breadth_cm,
                "shipment_height": request.height_cm,
            }
        ],
        "pickup_location": {"name": request.pickup_location},
    }


def read_scan(awb: str, scan: Mapping[str, Any]) -> CourierScan:
    """One Delhivery status (webhook ``Status`` or tracking ``ScanDetail``) in canonical terms."""
    kind = str(scan.get("StatusType") or scan.get("ScanType") or "")
    name = str(scan.get("Status") or scan.get("Scan") or "")
    code = str(scan.get("StatusCode") or scan.get("NSLCode") or "")
    instructions = str(scan.get("Instructions") or "")
    status: ShipmentStatus | None
    reason: NdrReason | None = None
    if code in NDR_CODES or (kind == "UD" and code.startswith("EOD-") and code != "EOD-38"):
        status, reason = S.NDR, NDR_CODES.get(code) or ndr_reason_from_text(instructions)
    elif code in CODE_MAP:
        status = CODE_MAP[code]
    else:
        status = STATUS_MAP.get((kind, name))
    return CourierScan(
        awb=awb,
        code=code or f"{kind}/{name}",
        status=status,
        occurred_at=read_ist(scan.get("StatusDateTime") or scan.get("ScanDateTime")),
        location=str(scan.get("StatusLocation") or scan.get("ScannedLocation") or "") or None,
        ndr_reason=reason,
        remark=instructions or None,
    )


class DelhiveryCourier:
    """CourierAdapter over an httpx client whose base_url is Delhivery's (or the sandbox's)."""

    name = "delhivery"

    def __init__(self, client: httpx.AsyncClient, *, token: str, webhook_token: str = "") -> None:
        self._client = client
        self._token = token
        self._webhook_token = webhook_token

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self._token}", "Accept": "application/json"}

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._client.request(method, path, headers=self._headers, **kwargs)
        except httpx.HTTPError as exc:
            raise CourierUnavailable(f"delhivery unreachable: {exc!r}") from exc
        if response.status_code != 200:
            raise CourierUnavailable(f"delhivery answered HTTP {response.status_code}: {response.text[:300]}")
        try:
            return response.json()
        except ValueError as exc:
            raise CourierUnavailable(f"delhivery answered non-JSON: {response.text[:300]}") from exc

    async def create_shipment(self, request: ShipmentRequest) -> CourierBooking:
        """Book one parcel; see CourierAdapter.create_shipment."""
        body = await self._call(
            "POST", CREATE_PATH, data={"format": "json", "data": json.dumps(manifest(request))}
        )
        packages = body.get("packages") or []
        package = packages[0] if packages else {}
        remarks = tuple(str(r) for r in package.get("remarks") or ())
        if package.get("status") == "Success" and package.get("waybill"):
            return CourierBooking(
                courier=self.name,
                awb=str(package["waybill"]),
                reference=str(package.get("refnum") or request.reference),
                remarks=remarks,
                routing_code=package.get("sort_code"),
            )
        reasons = remarks or ((str(body["rmk"]),) if body.get("rmk") else ("no package booked",))
        raise CourierRejected(
            f"delhivery refused shipment {request.reference}: {'; '.join(reasons)}",
            remarks=reasons,
        )

    async def request_pickup(self, *, warehouse_code: str, pickup_date: date, parcels: list[Handover]) -> str:
        """POST /fm/request/new/: a pickup slot for a number of packages at a registered location."""
        body = await self._call(
            "POST",
            PICKUP_PATH,
            json={
                "pickup_location": warehouse_code,
                "pickup_date": pickup_date.isoformat(),
                "pickup_time": "14:00:00",
                "expected_package_count": len(parcels),
            },
        )
        if not body.get("pickup_id"):
            raise CourierRejected(f"delhivery refused the pickup: {body.get('error') or body}")
        return str(body["pickup_id"])

    async def cancel(self, awb: str) -> None:
        """Cancel through p/edit with ``cancellation: true``."""
        body = await self._call("POST", EDIT_PATH, json={"waybill": awb, "cancellation": "true"})
        if not body.get("status"):
            raise CourierRejected(f"delhivery would not cancel {awb}: {body.get('error')}")

    async def update_consignee(self, parcel: Handover, consignee: Consignee) -> None:
        """p/edit with the waybill and the new ``name``, ``add`` and ``phone`` (Delhivery's shipment
        edit; the pincode cannot be edited there)."""
        address = consignee.address
        body = await self._call(
            "POST",
            EDIT_PATH,
            json={
                "waybill": parcel.awb,
                "name": consignee.name,
                "add": ", ".join(p for p in (address.line1, address.line2, address.landmark) if p),
                "phone": national_number(consignee.phone),
            },
        )
        if not body.get("status"):
            raise CourierRejected(
                f"delhivery would not edit {parcel.awb}: {body.get('error') or body}",
                remarks=(str(body.get("error") or body),),
            )

    async def track(self, awb: str) -> list[CourierScan]:
        """Every scan of one waybill."""
        body = await self._call("GET", TRACK_PATH, params={"waybill": awb})
        scans: list[CourierScan] = []
        for entry in body.get("ShipmentData") or []:
            for item in entry.get("Shipment", {}).get("Scans") or []:
                scans.append(read_scan(awb, item.get("ScanDetail") or {}))
        return scans

    async def ndr_action(self, awb: str, action: NdrAction) -> None:
        """p/update with Delhivery's ``act`` for the action."""
        item: dict[str, Any] = {"waybill": awb, "act": NDR_ACTS[action.kind]}
        if action.reattempt_on is not None:
            item["act"] = "DEFER_DLV"
            item["deferred_date"] = action.reattempt_on.isoformat()
        if action.new_phone:
            item["phone"] = national_number(action.new_phone)
        if action.new_address is not None:
            item["add"] = ", ".join(p for p in (action.new_address.line1, action.new_address.line2) if p)
        body = await self._call("POST", NDR_PATH, json={"data": [item]})
        if body.get("status") is False or body.get("error"):
            raise CourierError(f"delhivery refused NDR action on {awb}: {body.get('error') or body}")

    def read_webhook(self, headers: Mapping[str, str], body: bytes) -> list[CourierScan]:
        """Delhivery pushes ``{"Shipment": {...}}`` with the token we registered: its ``Status`` and,
        when the push carries them, the ``Scans`` that led there (the tracking API's shape), read
        whole and returned oldest first (ADR 172)."""
        check_token(headers, "Authorization", self._webhook_token, prefix="Token ")
        try:
            payload = json.loads(body)
            shipment = payload["Shipment"]
            awb = str(shipment["AWB"])
            status = dict(shipment["Status"])
            listed = [dict(item["ScanDetail"]) for item in shipment.get("Scans") or []]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRefused(f"not a Delhivery scan push: {exc!r}", status=400) from exc
        status.setdefault("NSLCode", shipment.get("NSLCode"))
        return in_time_order([read_scan(awb, scan) for scan in listed] + [read_scan(awb, status)])
