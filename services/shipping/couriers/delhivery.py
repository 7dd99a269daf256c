"""Delhivery B2C (CMU) adapter: books a parcel through POST /api/cmu/create.json.

Form body ``format=json&data=<json>``, header ``Authorization: Token <token>``; the AWB is
``packages[0].waybill``. Our shipment id goes in ``order`` so a re-booking returns the same AWB.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from services.shipping.couriers.interface import (
    CourierBooking,
    CourierRejected,
    CourierUnavailable,
    ShipmentRequest,
)

CREATE_PATH = "/api/cmu/create.json"


def _rupees(paise: int) -> float:
    return round(paise / 100, 2)


def _national_number(e164: str) -> str:
    """Delhivery wants the 10-digit Indian number, without +91."""
    digits = "".join(ch for ch in e164 if ch.isdigit())
    return digits[-10:]


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
                "phone": _national_number(request.consignee_phone),
                "order": request.reference,
                "payment_mode": "COD" if request.is_cod else "Prepaid",
                "cod_amount": _rupees(request.cod_amount_paise),
                "total_amount": _rupees(request.value_paise),
                "products_desc": ", ".join(f"{i.sku} x{i.quantity}" for i in request.items),
                "quantity": sum(i.quantity for i in request.items),
                "weight": request.weight_grams,
            }
        ],
        "pickup_location": {"name": request.pickup_location},
    }


class DelhiveryCourier:
    """CourierAdapter over an httpx client whose base_url is Delhivery's (or the sandbox's)."""

    name = "delhivery"

    def __init__(self, client: httpx.AsyncClient, *, token: str) -> None:
        self._client = client
        self._token = token

    async def create_shipment(self, request: ShipmentRequest) -> CourierBooking:
        """Book one parcel; see CourierAdapter.create_shipment."""
        try:
            response = await self._client.post(
                CREATE_PATH,
                data={"format": "json", "data": json.dumps(manifest(request))},
                headers={"Authorization": f"Token {self._token}", "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise CourierUnavailable(f"delhivery unreachable: {exc!r}") from exc
        if response.status_code != 200:
            raise CourierUnavailable(f"delhivery answered HTTP {response.status_code}: {response.text[:300]}")
        try:
            body = response.json()
        except ValueError as exc:
            raise CourierUnavailable(f"delhivery answered non-JSON: {response.text[:300]}") from exc
        packages = body.get("packages") or []
        package = packages[0] if packages else {}
        remarks = tuple(str(r) for r in package.get("remarks") or ())
        if package.get("status") == "Success" and package.get("waybill"):
            return CourierBooking(
                courier=self.name,
                awb=str(package["waybill"]),
                reference=str(package.get("refnum") or request.reference),
                remarks=remarks,
            )
        reasons = remarks or ((str(body["rmk"]),) if body.get("rmk") else ("no package booked",))
        raise CourierRejected(
            f"delhivery refused shipment {request.reference}: {'; '.join(reasons)}",
            remarks=reasons,
        )
