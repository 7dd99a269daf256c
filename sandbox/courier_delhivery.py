"""Delhivery B2C (CMU) courier API shapes: manifest shipments, track by waybill, edit and cancel.
Assigns 14-digit AWBs idempotently per order reference and keeps each shipment's scan history.

Deliberate differences from the real Delhivery API, so Dabba's retries can be tested:
- Creating a shipment for an `order` that already has one answers with the existing package
  (same waybill, status "Success", remark "Duplicate order id") and success stays true. Real
  Delhivery rejects the duplicate with status "Fail", which a retry after a lost response
  cannot tell apart from a real failure.
- Cancelling an already cancelled shipment succeeds again instead of failing.
"""

import json
import re
import secrets
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Header, Request

from sandbox.control import State, fault_gate
from sandbox.courier_sim import NDR_TEXT, Parcel, Recorder, RoadEvent, Step, WebhookRenderer
from sandbox.errors import ProviderError
from sandbox.settings import SandboxSettings
from sandbox.state import CourierState, Provider, SandboxState, Scan, Shipment, utc_now

PINCODE = re.compile(r"^[1-9]\d{5}$")
PAYMENT_MODES = {"Prepaid": "Pre-paid", "COD": "COD", "Pickup": "Pickup"}
DUPLICATE_REMARK = "Duplicate order id"
# Delhivery reports local Indian time without an offset; the adapter must read it as IST.
IST = timezone(timedelta(hours=5, minutes=30))
# First digit of a pincode is its postal region; the hub code stands in for Delhivery's sort code.
REGION_HUB = {
    "1": "DEL",
    "2": "LKO",
    "3": "JAI",
    "4": "BOM",
    "5": "BLR",
    "6": "MAA",
    "7": "CCU",
    "8": "PAT",
    "9": "APO",
}
CLIENT = "DABBASANDBOX"


def render_fault(status_code: int) -> ProviderError:
    """An injected failure in Delhivery's envelope."""
    headers = {"Retry-After": "1"} if status_code == 429 else None
    body = {"success": False, "rmk": f"Sandbox injected fault (HTTP {status_code})"}
    return ProviderError(status_code, body, headers)


async def require_token(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """Delhivery authenticates with `Authorization: Token <api key>`."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme != "Token" or not token.strip():
        raise ProviderError(401, {"detail": "Authentication credentials were not provided."})
    settings: SandboxSettings = request.app.state.settings
    if settings.courier_token is not None and token.strip() != settings.courier_token:
        raise ProviderError(401, {"detail": "Invalid token."})


router = APIRouter(dependencies=[Depends(fault_gate(Provider.COURIER, render_fault)), Depends(require_token)])


def ist(at: datetime) -> str:
    """A UTC datetime as Delhivery prints it: IST wall-clock time, no offset."""
    return at.astimezone(IST).replace(tzinfo=None).isoformat(timespec="milliseconds")


def sort_code(pin: str) -> str:
    return f"{REGION_HUB.get(pin[:1], 'HUB')}/{pin[:3]}"


def problems(shipment: dict[str, Any]) -> list[str]:
    """Remarks for every field Delhivery would refuse, empty when the shipment is acceptable."""
    remarks = [
        f"{name} is a required field"
        for name in ("name", "add", "phone", "order")
        if not str(shipment.get(name) or "").strip()
    ]
    if not PINCODE.match(str(shipment.get("pin") or "").strip()):
        remarks.append(f"pin '{shipment.get('pin')}' is not a valid 6 digit pincode")
    if shipment.get("payment_mode") not in PAYMENT_MODES:
        remarks.append(f"payment_mode '{shipment.get('payment_mode')}' must be Prepaid, COD or Pickup")
    elif shipment["payment_mode"] == "COD":
        try:
            if float(shipment.get("cod_amount") or 0) <= 0:
                remarks.append("cod_amount must be positive for COD")
        except (TypeError, ValueError):
            remarks.append("cod_amount is not a number")
    return remarks


def package(shipment: Shipment, remarks: list[str]) -> dict[str, Any]:
    return {
        "status": "Success",
        "waybill": shipment.waybill,
        "refnum": shipment.order,
        "client": CLIENT,
        "remarks": remarks,
        "cod_amount": shipment.cod_amount,
        "payment": PAYMENT_MODES[shipment.payment_mode],
        "serviceable": True,
        "sort_code": shipment.sort_code,
    }


def failed_package(shipment: dict[str, Any], remarks: list[str]) -> dict[str, Any]:
    return {
        "status": "Fail",
        "waybill": "",
        "refnum": str(shipment.get("order") or ""),
        "client": CLIENT,
        "remarks": remarks,
        "cod_amount": 0.0,
        "payment": PAYMENT_MODES.get(str(shipment.get("payment_mode")), ""),
        "serviceable": False,
        "sort_code": None,
    }


def manifest_reply(packages: list[dict[str, Any]], upload_wbn: str, rmk: str) -> dict[str, Any]:
    """Delhivery's create.json envelope with its per-payment counters."""
    ok = [p for p in packages if p["status"] == "Success"]
    cod = [p for p in ok if p["payment"] == "COD"]
    return {
        "success": bool(packages) and len(ok) == len(packages),
        "package_count": len(packages),
        "upload_wbn": upload_wbn,
        "packages": packages,
        "rmk": rmk,
        "cod_count": len(cod),
        "prepaid_count": len(ok) - len(cod),
        "cod_amount": sum(float(p["cod_amount"]) for p in cod),
        "pickups_count": 0,
        "replacement_count": 0,
        "cash_pickups_count": 0,
        "cash_pickups": 0.0,
    }


def parse_manifest(raw: bytes) -> dict[str, Any]:
    """Read `format=json&data=<json>` from a form-encoded body, as Delhivery requires."""
    form = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
    if form.get("format", [""])[0] != "json" or "data" not in form:
        raise ValueError("format=json and data are required form fields")
    try:
        data = json.loads(form["data"][0])
    except json.JSONDecodeError as exc:
        raise ValueError(f"data is not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("shipments"), list):
        raise ValueError("data.shipments must be a list")
    if not all(isinstance(s, dict) for s in data["shipments"]):
        raise ValueError("each shipment must be an object")
    return data


def new_shipment(raw: dict[str, Any], waybill: str, upload_wbn: str, warehouse: str) -> Shipment:
    now = utc_now()
    pin = str(raw["pin"]).strip()
    return Shipment(
        waybill=waybill,
        order=str(raw["order"]).strip(),
        upload_wbn=upload_wbn,
        payment_mode=str(raw["payment_mode"]),
        cod_amount=float(raw.get("cod_amount") or 0) if raw["payment_mode"] == "COD" else 0.0,
        total_amount=float(raw.get("total_amount") or 0),
        sort_code=sort_code(pin),
        pickup_location=warehouse,
        consignee={
            "name": str(raw["name"]),
            "add": str(raw["add"]),
            "pin": pin,
            "city": str(raw.get("city") or ""),
            "state": str(raw.get("state") or ""),
            "phone": str(raw["phone"]),
        },
        request=raw,
        created_at=now,
        scans=[
            Scan(
                status="Manifested",
                status_type="UD",
                location=warehouse,
                instructions="Manifest uploaded",
                status_code="X-UCI",
                at=now,
            )
        ],
    )


@router.post("/api/cmu/create.json")
async def create_shipments(request: Request, state: State) -> dict[str, Any]:
    upload_wbn = "UPL" + "".join(secrets.choice("0123456789") for _ in range(17))
    try:
        data = parse_manifest(await request.body())
    except ValueError as exc:
        return manifest_reply([], upload_wbn, str(exc))
    pickup = data.get("pickup_location")
    warehouse = str(pickup.get("name") or "") if isinstance(pickup, dict) else ""
    if not warehouse:
        return manifest_reply([], upload_wbn, "pickup_location.name is a required field")

    packages: list[dict[str, Any]] = []
    courier = state.courier
    async with courier.lock:
        for raw in data["shipments"]:
            remarks = problems(raw)
            if remarks:
                packages.append(failed_package(raw, remarks))
                continue
            order = str(raw["order"]).strip()
            existing = courier.waybill_by_order.get(order)
            if existing is not None:
                packages.append(package(courier.shipments[existing], [DUPLICATE_REMARK]))
                continue
            shipment = new_shipment(raw, courier.issue_waybill(), upload_wbn, warehouse)
            courier.shipments[shipment.waybill] = shipment
            courier.waybill_by_order[order] = shipment.waybill
            packages.append(package(shipment, []))
            async with state.simulation.lock:
                state.simulation.book(
                    "delhivery",
                    shipment.waybill,
                    order,
                    origin=warehouse,
                    destination=shipment.consignee["pin"],
                )

    failures = [f"{p['refnum']}: {'; '.join(p['remarks'])}" for p in packages if p["status"] == "Fail"]
    return manifest_reply(packages, upload_wbn, " | ".join(failures))


def tracking(shipment: Shipment) -> dict[str, Any]:
    """One ShipmentData entry in Delhivery's tracking shape."""
    current = shipment.current
    return {
        "Shipment": {
            "AWB": shipment.waybill,
            "ReferenceNo": shipment.order,
            "OrderType": PAYMENT_MODES[shipment.payment_mode],
            "CODAmount": shipment.cod_amount,
            "InvoiceAmount": shipment.total_amount,
            "Origin": shipment.pickup_location,
            "Destination": shipment.consignee["city"],
            "PickUpDate": None,
            "Consignee": {
                "Name": shipment.consignee["name"],
                "Address1": shipment.consignee["add"],
                "City": shipment.consignee["city"],
                "State": shipment.consignee["state"],
                "PinCode": shipment.consignee["pin"],
                "Telephone1": shipment.consignee["phone"],
            },
            "Status": {
                "Status": current.status,
                "StatusType": current.status_type,
                "StatusCode": current.status_code,
                "StatusDateTime": ist(current.at),
                "StatusLocation": current.location,
                "Instructions": current.instructions,
            },
            "Scans": [
                {
                    "ScanDetail": {
                        "Scan": s.status,
                        "ScanType": s.status_type,
                        "StatusCode": s.status_code,
                        "ScanDateTime": ist(s.at),
                        "StatusDateTime": ist(s.at),
                        "ScannedLocation": s.location,
                        "Instructions": s.instructions,
                    }
                }
                for s in shipment.scans
            ],
        }
    }


# Both spellings: httpx does not follow the 307 FastAPI would send for the slash-less one.
@router.get("/api/v1/packages/json/")
@router.get("/api/v1/packages/json", include_in_schema=False)
async def track(state: State, waybill: str = "", ref_ids: str = "") -> dict[str, Any]:
    waybills = [w.strip() for w in waybill.split(",") if w.strip()]
    orders = [r.strip() for r in ref_ids.split(",") if r.strip()]
    courier = state.courier
    async with courier.lock:
        waybills += [courier.waybill_by_order[o] for o in orders if o in courier.waybill_by_order]
        found = [tracking(courier.shipments[w]) for w in waybills if w in courier.shipments]
    if not found:
        return {"Error": "No such waybill or Order Id found"}
    return {"ShipmentData": found}


@router.post("/api/p/edit")
async def edit(request: Request, state: State) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return {"status": False, "error": "Request body must be a JSON object"}
    waybill = str(body.get("waybill") or "")
    if str(body.get("cancellation")).lower() != "true":
        return await edit_consignee(body, waybill, state)
    courier = state.courier
    async with courier.lock:
        shipment = courier.shipments.get(waybill)
        if shipment is None:
            return {"status": False, "waybill": waybill, "error": "Waybill not found"}
        if shipment.current.status_type in {"DL", "RT"}:
            return {
                "status": False,
                "waybill": waybill,
                "error": f"Shipment is {shipment.current.status}; it can no longer be cancelled",
            }
        parcel = state.simulation.parcels.get(("delhivery", waybill))
        if parcel is not None:
            parcel.cancelled = True
        if shipment.current.status_type != "CN":
            shipment.scans.append(
                Scan(
                    status="Cancelled",
                    status_type="CN",
                    location=shipment.pickup_location,
                    instructions="Shipment cancelled by client",
                    status_code="",
                    at=utc_now(),
                )
            )
    return {
        "status": True,
        "waybill": waybill,
        "order_id": shipment.order,
        "remark": "Shipment has been cancelled.",
    }


EDITABLE = ("name", "add", "phone")


async def edit_consignee(body: dict[str, Any], waybill: str, state: SandboxState) -> dict[str, Any]:
    """p/edit without ``cancellation``: change the consignee's name, address and phone of a package
    not yet picked up (Delhivery edits neither the pincode nor a package on the road)."""
    changes = {k: str(body[k]).strip() for k in EDITABLE if k in body}
    if "pin" in body:
        return {"status": False, "waybill": waybill, "error": "pin cannot be edited; cancel and re-manifest"}
    if not changes or not all(changes.values()):
        return {"status": False, "waybill": waybill, "error": "name, add or phone must be given, not empty"}
    async with state.courier.lock:
        shipment = state.courier.shipments.get(waybill)
        if shipment is None:
            return {"status": False, "waybill": waybill, "error": "Waybill not found"}
        parcel = state.simulation.parcels.get(("delhivery", waybill))
        if shipment.current.status_type != "UD" or (parcel is not None and parcel.events):
            return {
                "status": False,
                "waybill": waybill,
                "error": f"Shipment is {shipment.current.status}; it can no longer be edited",
            }
        shipment.consignee.update(changes)
        shipment.edits += 1
    return {"status": True, "waybill": waybill, "order_id": shipment.order, "remark": "Shipment updated."}


# --- the simulated road, in Delhivery's words -----------------------------------------------------

# Step → (Status, StatusType, StatusCode, Instructions) as Delhivery's scans say it.
ROAD_SCANS: dict[Step, tuple[str, str, str, str]] = {
    Step.PICKED_UP: ("In Transit", "UD", "X-PPOM", "Shipment picked up"),
    Step.IN_TRANSIT: ("In Transit", "UD", "X-DLO2F", "Shipment in transit"),
    Step.OUT_FOR_DELIVERY: ("Dispatched", "UD", "X-DDD3FD", "Out for delivery"),
    Step.DELIVERED: ("Delivered", "DL", "EOD-38", "Delivered to consignee"),
    Step.RTO_INITIATED: ("In Transit", "RT", "RT-101", "Returned as per client instructions"),
    Step.RTO_IN_TRANSIT: ("In Transit", "RT", "RT-110", "Return in transit"),
    Step.RTO_DELIVERED: ("RTO", "DL", "RD-AC", "Returned to origin and accepted"),
    Step.LOST: ("Lost", "LT", "LT-100", "Shipment lost"),
}
NDR_CODES = {
    "customer_unavailable": "EOD-11",
    "phone_unreachable": "EOD-43",
    "cash_not_ready": "EOD-69",
    "future_delivery_requested": "EOD-3",
    "refused": "EOD-6",
    "wrong_or_incomplete_address": "EOD-111",
    "out_of_delivery_area": "EOD-86",
    "other": "EOD-74",
}


def road_scan(event: RoadEvent) -> Scan:
    if event.step is Step.NDR:
        reason = event.ndr_reason or "other"
        status, kind, code, text = "Pending", "UD", NDR_CODES.get(reason, "EOD-74"), NDR_TEXT.get(reason, "")
    else:
        status, kind, code, text = ROAD_SCANS[event.step]
    return Scan(
        status=status,
        status_type=kind,
        location=event.location,
        instructions=text,
        status_code=code,
        at=event.at,
    )


def make_recorder(courier: CourierState) -> Recorder:
    def record(parcel: Parcel, event: RoadEvent) -> None:
        shipment = courier.shipments.get(parcel.awb)
        if shipment is not None:
            shipment.scans.append(road_scan(event))

    return record


def make_renderer(settings: SandboxSettings) -> WebhookRenderer:
    """Delhivery's scan push: one Shipment object, our registered token in Authorization."""

    def render(parcel: Parcel, event: RoadEvent) -> tuple[str, dict[str, str], bytes]:
        scan = road_scan(event)
        body = {
            "Shipment": {
                "AWB": parcel.awb,
                "ReferenceNo": parcel.reference,
                "NSLCode": scan.status_code,
                "Sortcode": sort_code(parcel.destination) if parcel.destination.isdigit() else None,
                "Status": {
                    "Status": scan.status,
                    "StatusType": scan.status_type,
                    "StatusCode": scan.status_code,
                    "StatusDateTime": ist(scan.at),
                    "StatusLocation": scan.location,
                    "Instructions": scan.instructions,
                },
            }
        }
        headers = {"Authorization": f"Token {settings.delhivery_webhook_token}"}
        return "/webhooks/couriers/delhivery", headers, json.dumps(body).encode()

    return render


@router.post("/api/p/update")
async def ndr_update(request: Request, state: State) -> dict[str, Any]:
    """NDR API: ``{"data": [{"waybill", "act"}]}``, act RE-ATTEMPT, DEFER_DLV, EDIT_DETAILS, RTO."""
    try:
        body = await request.json()
        items = list(body["data"])
    except (ValueError, KeyError, TypeError):
        return {"status": False, "error": "data must be a list of {waybill, act}"}
    results = []
    async with state.simulation.lock:
        for item in items:
            act = str(item.get("act") or "")
            if act not in {"RE-ATTEMPT", "DEFER_DLV", "EDIT_DETAILS", "RTO"}:
                results.append(
                    {"waybill": item.get("waybill"), "status": False, "error": f"unknown act {act}"}
                )
                continue
            why = state.simulation.act(
                "delhivery", str(item.get("waybill")), "rto" if act == "RTO" else "reattempt"
            )
            results.append({"waybill": item.get("waybill"), "status": why is None, "error": why})
    failed = [r for r in results if not r["status"]]
    return {
        "status": not failed,
        "request_id": secrets.token_hex(8),
        "results": results,
        "error": "; ".join(str(r["error"]) for r in failed) or None,
    }


@router.post("/fm/request/new/")
@router.post("/fm/request/new", include_in_schema=False)
async def pickup_request(request: Request, state: State) -> dict[str, Any]:
    """Delhivery's pickup request: a slot at a registered location for a number of packages."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not str(body.get("pickup_location") or "").strip():
        return {"error": "pickup_location is a required field", "pr_exist": False}
    if int(body.get("expected_package_count") or 0) <= 0:
        return {"error": "expected_package_count must be positive", "pr_exist": False}
    return {
        "pickup_id": int(secrets.randbelow(90_000_000) + 10_000_000),
        "pickup_location_name": body["pickup_location"],
        "pickup_date": body.get("pickup_date"),
        "pickup_time": body.get("pickup_time"),
        "expected_package_count": body["expected_package_count"],
    }
