"""Shiprocket external API shapes: login, adhoc/return orders, AWB assignment, shipment details,
delivery address update, cancel, track, NDR action; and its status webhooks (``x-api-key``) for every
step of the simulated road.

Deliberate difference from the real API, so retries can be tested: creating an order with an
``order_id`` that exists answers with the existing order (and its AWB) instead of an error.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request

from sandbox.control import State, fault_gate
from sandbox.courier_sim import NDR_TEXT, Parcel, Recorder, RoadEvent, Step, WebhookRenderer
from sandbox.courier_state import AccountState, BookedOrder
from sandbox.errors import ProviderError
from sandbox.settings import SandboxSettings
from sandbox.state import Provider, SandboxState, utc_now

IST = timezone(timedelta(hours=5, minutes=30))
PINCODE = re.compile(r"^[1-9]\d{5}$")
PHONE = re.compile(r"^[6-9]\d{9}$")
# Step → (status id, label) in Shiprocket's status list.
ROAD_STATUS: dict[Step, tuple[int, str]] = {
    Step.PICKED_UP: (42, "PICKED UP"),
    Step.IN_TRANSIT: (18, "IN TRANSIT"),
    Step.OUT_FOR_DELIVERY: (17, "OUT FOR DELIVERY"),
    Step.DELIVERED: (7, "DELIVERED"),
    Step.NDR: (21, "UNDELIVERED"),
    Step.RTO_INITIATED: (9, "RTO INITIATED"),
    Step.RTO_IN_TRANSIT: (46, "RTO IN TRANSIT"),
    Step.RTO_DELIVERED: (10, "RTO DELIVERED"),
    Step.LOST: (12, "LOST"),
}


def render_fault(status_code: int) -> ProviderError:
    return ProviderError(
        status_code, {"message": f"Sandbox injected fault (HTTP {status_code})", "status_code": status_code}
    )


async def require_bearer(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    scheme, _, token = (authorization or "").partition(" ")
    account: AccountState = request.app.state.sandbox.shiprocket
    if scheme != "Bearer" or token not in account.tokens:
        raise ProviderError(401, {"message": "Token has expired", "status_code": 401})


gate = Depends(fault_gate(Provider.SHIPROCKET, render_fault))
router = APIRouter(prefix="/v1/external", dependencies=[gate])
authed = [Depends(require_bearer)]


def ist_text(event: RoadEvent) -> str:
    return event.at.astimezone(IST).strftime("%Y-%m-%d %H:%M:%S")


@router.post("/auth/login")
async def login(request: Request, state: State) -> dict[str, Any]:
    body = await request.json()
    if not str(body.get("email") or "").strip() or not str(body.get("password") or "").strip():
        raise ProviderError(400, {"message": "Invalid email and password combination", "status_code": 400})
    token = secrets.token_urlsafe(24)
    async with state.shiprocket.lock:
        state.shiprocket.tokens.add(token)
    return {"id": 1, "email": body["email"], "company_id": 1, "token": token}


def order_errors(body: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in ("order_id", "pickup_location", "billing_customer_name", "billing_address", "billing_city"):
        if not str(body.get(name) or "").strip():
            errors[name] = [f"The {name.replace('_', ' ')} field is required."]
    if not PINCODE.match(str(body.get("billing_pincode") or "")):
        errors["billing_pincode"] = ["The billing pincode must be 6 digits."]
    if not PHONE.match(str(body.get("billing_phone") or "")):
        errors["billing_phone"] = ["The billing phone must be a valid 10 digit number."]
    if body.get("payment_method") not in ("COD", "Prepaid"):
        errors["payment_method"] = ["The selected payment method is invalid."]
    if not body.get("order_items"):
        errors["order_items"] = ["The order items field is required."]
    try:
        if float(body.get("weight") or 0) <= 0:
            errors["weight"] = ["The weight must be greater than 0."]
    except (TypeError, ValueError):
        errors["weight"] = ["The weight must be a number."]
    return errors


async def create(request: Request, state: State) -> dict[str, Any]:
    body = await request.json()
    errors = order_errors(body)
    if errors:
        raise ProviderError(422, {"message": "Oops! Invalid Data.", "errors": errors, "status_code": 422})
    account = state.shiprocket
    async with account.lock:
        order = account.orders.get(str(body["order_id"]))
        if order is None:
            order = BookedOrder(
                reference=str(body["order_id"]),
                order_id=account.next_id,
                shipment_id=account.next_id + 500_000,
                request=body,
                pickup_location=str(body["pickup_location"]),
                pincode=str(body["billing_pincode"]),
                created_at=utc_now(),
            )
            account.next_id += 1
            account.orders[order.reference] = order
            account.by_shipment[order.shipment_id] = order
    return {
        "order_id": order.order_id,
        "shipment_id": order.shipment_id,
        "status": "NEW",
        "status_code": 1,
        "onboarding_completed_now": 0,
        "awb_code": order.awb or "",
        "courier_company_id": "",
        "courier_name": "",
    }


router.add_api_route("/orders/create/adhoc", create, methods=["POST"], dependencies=authed)
router.add_api_route("/orders/create/return", create, methods=["POST"], dependencies=authed)


@router.post("/courier/assign/awb", dependencies=authed)
async def assign_awb(request: Request, state: State) -> dict[str, Any]:
    body = await request.json()
    account = state.shiprocket
    async with account.lock:
        order = account.by_shipment.get(int(body.get("shipment_id") or 0))
        if order is None:
            return {"awb_assign_status": 0, "message": "Shipment id does not exist"}
        if order.awb is None:
            async with state.courier.lock:
                order.awb = state.courier.issue_waybill()
            account.by_awb[order.awb] = order
            async with state.simulation.lock:
                state.simulation.book(
                    "shiprocket",
                    order.awb,
                    order.reference,
                    origin=order.pickup_location,
                    destination=order.pincode,
                )
    return {
        "awb_assign_status": 1,
        "response": {
            "data": {
                "awb_code": order.awb,
                "courier_company_id": 10,
                "courier_name": "Sandbox Surface",
                "shipment_id": order.shipment_id,
                "routing_code": f"SR/{order.pincode[:3]}",
            }
        },
    }


@router.post("/courier/generate/pickup", dependencies=authed)
async def generate_pickup(request: Request, state: State) -> dict[str, Any]:
    body = await request.json()
    ids = body.get("shipment_id") or []
    async with state.shiprocket.lock:
        unknown = [i for i in ids if state.shiprocket.by_shipment.get(int(i)) is None]
        without_awb = [
            i for i in ids if i not in unknown and state.shiprocket.by_shipment[int(i)].awb is None
        ]
    if not ids or unknown or without_awb:
        why = (
            "shipment_id is required"
            if not ids
            else f"unknown or unassigned shipment ids: {unknown + without_awb}"
        )
        raise ProviderError(400, {"message": why, "status_code": 400})
    dates = body.get("pickup_date") or [utc_now().astimezone(IST).date().isoformat()]
    return {
        "pickup_status": 1,
        "response": {
            "pickup_scheduled_date": f"{dates[0]} 14:00:00",
            "pickup_token_number": f"Reference No: {secrets.token_hex(6).upper()}",
            "status": 3,
            "pickup_generated_date": {"date": utc_now().astimezone(IST).strftime("%Y-%m-%d %H:%M:%S")},
            "data": f"Pickup is confirmed for {len(ids)} shipment(s)",
        },
    }


@router.post("/orders/cancel/shipment/awbs", dependencies=authed)
async def cancel(request: Request, state: State) -> dict[str, Any]:
    body = await request.json()
    async with state.shiprocket.lock, state.simulation.lock:
        for awb in body.get("awbs") or []:
            order = state.shiprocket.by_awb.get(str(awb))
            if order is not None:
                order.cancelled = True
            parcel = state.simulation.parcels.get(("shiprocket", str(awb)))
            if parcel is not None:
                parcel.cancelled = True
    return {"message": "Bulk Shipment cancellation is in progress. Please wait for 24 hours."}


@router.get("/shipments/{shipment_id}", dependencies=authed)
async def shipment_details(shipment_id: int, state: State) -> dict[str, Any]:
    async with state.shiprocket.lock:
        order = state.shiprocket.by_shipment.get(shipment_id)
    if order is None:
        raise ProviderError(404, {"message": "Shipment not found", "status_code": 404})
    return {
        "data": {
            "id": order.shipment_id,
            "order_id": order.order_id,
            "awb": order.awb or "",
            "status": "CANCELED" if order.cancelled else "NEW",
        }
    }


ADDRESS_FIELDS = (
    "shipping_customer_name",
    "shipping_phone",
    "shipping_address",
    "shipping_address_2",
    "shipping_city",
    "shipping_state",
    "shipping_country",
    "shipping_pincode",
)


@router.post("/orders/address/update", dependencies=authed)
async def update_address(request: Request, state: State) -> dict[str, Any]:
    """Update Customer Delivery Address of an order whose parcel has not been picked up."""
    body = await request.json()
    errors = {
        name: [f"The {name.replace('_', ' ')} field is required."]
        for name in ("order_id", "shipping_customer_name", "shipping_address", "shipping_pincode")
        if not str(body.get(name) or "").strip()
    }
    if body.get("shipping_phone") is not None and not PHONE.match(str(body["shipping_phone"])):
        errors["shipping_phone"] = ["The shipping phone must be a valid 10 digit number."]
    if errors:
        raise ProviderError(422, {"message": "Oops! Invalid Data.", "errors": errors, "status_code": 422})
    account = state.shiprocket
    async with account.lock, state.simulation.lock:
        order = next((o for o in account.orders.values() if o.order_id == int(body["order_id"])), None)
        if order is None:
            raise ProviderError(400, {"message": "Order not found", "status_code": 400})
        parcel = state.simulation.parcels.get(("shiprocket", order.awb or ""))
        if order.cancelled or (parcel is not None and parcel.events):
            raise ProviderError(
                400, {"message": "Address cannot be updated after pickup or cancellation", "status_code": 400}
            )
        order.request.update({k: body[k] for k in ADDRESS_FIELDS if k in body})
        order.edits += 1
    return {"status_code": 200, "message": "Address updated successfully"}


@router.get("/courier/track/awb/{awb}", dependencies=authed)
async def track(awb: str, state: State) -> dict[str, Any]:
    async with state.shiprocket.lock:
        order = state.shiprocket.by_awb.get(awb)
        scans = list(order.scans) if order else []
    if order is None:
        return {"tracking_data": {"track_status": 0, "error": "Aahh! There is no activities found in our DB"}}
    latest = scans[-1] if scans else None
    return {
        "tracking_data": {
            "track_status": 1,
            "shipment_status": int(latest["sr-status"]) if latest else 1,
            "shipment_track_activities": list(reversed(scans)),
        }
    }


@router.post("/ndr/{awb}/action", dependencies=authed)
async def ndr_action(awb: str, request: Request, state: State) -> dict[str, Any]:
    body = await request.json()
    action = str(body.get("action") or "")
    if action not in ("re-attempt", "return"):
        raise ProviderError(422, {"message": "action must be re-attempt or return", "status_code": 422})
    async with state.simulation.lock:
        why = state.simulation.act("shiprocket", awb, "rto" if action == "return" else "reattempt")
    if why is not None:
        raise ProviderError(400, {"message": why, "status_code": 400})
    return {"status_code": 200, "message": "Action taken successfully"}


def scan_of(event: RoadEvent) -> dict[str, Any]:
    status_id, label = ROAD_STATUS[event.step]
    activity = NDR_TEXT.get(event.ndr_reason or "", label) if event.step is Step.NDR else label.title()
    return {
        "date": ist_text(event),
        "status": label,
        "activity": activity,
        "location": event.location,
        "sr-status": str(status_id),
        "sr-status-label": label,
    }


def make_recorder(sandbox: SandboxState) -> Recorder:
    def record(parcel: Parcel, event: RoadEvent) -> None:
        order = sandbox.shiprocket.by_awb.get(parcel.awb)
        if order is not None:
            order.scans.append(scan_of(event))

    return record


def make_renderer(settings: SandboxSettings, sandbox: SandboxState) -> WebhookRenderer:
    """Shiprocket's status push with the token registered in its panel in ``x-api-key``."""

    def render(parcel: Parcel, event: RoadEvent) -> tuple[str, dict[str, str], bytes]:
        status_id, label = ROAD_STATUS[event.step]
        order = sandbox.shiprocket.by_awb.get(parcel.awb)
        body = {
            "awb": parcel.awb,
            "courier_name": "Sandbox Surface",
            "current_status": label,
            "current_status_id": status_id,
            "shipment_status": label,
            "shipment_status_id": status_id,
            "current_timestamp": ist_text(event),
            "order_id": parcel.reference,
            "sr_order_id": order.order_id if order else None,
            "is_return": 0,
            "scans": [scan_of(event)],
        }
        return (
            "/webhooks/couriers/shiprocket",
            {"x-api-key": settings.shiprocket_webhook_token},
            json.dumps(body).encode(),
        )

    return render
