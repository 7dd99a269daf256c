"""Xpressbees shipment API shapes: login, book (shipments2), cancel, track, NDR create; and its status
webhooks, signed with HMAC-SHA256 of the body (``X-Xb-Signature``), for every simulated step.

Deliberate difference from the real API, so retries can be tested: booking an ``order_number`` that
exists answers with the existing shipment and AWB instead of an error.
"""

from __future__ import annotations

import hashlib
import hmac
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
ROAD_CODES: dict[Step, tuple[str, str]] = {
    Step.PICKED_UP: ("PU", "picked up"),
    Step.IN_TRANSIT: ("IT", "in transit"),
    Step.OUT_FOR_DELIVERY: ("OFD", "out for delivery"),
    Step.DELIVERED: ("DL", "delivered"),
    Step.NDR: ("EX", "exception"),
    Step.RTO_INITIATED: ("RT", "rto"),
    Step.RTO_IN_TRANSIT: ("RT-IT", "rto in transit"),
    Step.RTO_DELIVERED: ("RT-DL", "rto delivered"),
    Step.LOST: ("LT", "lost"),
}


def render_fault(status_code: int) -> ProviderError:
    return ProviderError(
        status_code, {"status": False, "message": f"Sandbox injected fault (HTTP {status_code})"}
    )


async def require_bearer(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    scheme, _, token = (authorization or "").partition(" ")
    account: AccountState = request.app.state.sandbox.xpressbees
    if scheme != "Bearer" or token not in account.tokens:
        raise ProviderError(401, {"status": False, "message": "Invalid or expired token"})


router = APIRouter(prefix="/api", dependencies=[Depends(fault_gate(Provider.XPRESSBEES, render_fault))])
authed = [Depends(require_bearer)]


@router.post("/users/login")
async def login(request: Request, state: State) -> dict[str, Any]:
    body = await request.json()
    if not str(body.get("email") or "").strip() or not str(body.get("password") or "").strip():
        return {"status": False, "message": "email and password are required"}
    token = secrets.token_urlsafe(24)
    async with state.xpressbees.lock:
        state.xpressbees.tokens.add(token)
    return {"status": True, "data": token}


def problems(body: dict[str, Any]) -> list[str]:
    consignee = body.get("consignee") or {}
    found = [f"{name} is required" for name in ("order_number", "payment_type") if not body.get(name)]
    if body.get("payment_type") not in ("cod", "prepaid", "reverse"):
        found.append("payment_type must be cod, prepaid or reverse")
    if not PINCODE.match(str(consignee.get("pincode") or "")):
        found.append("consignee.pincode must be a 6 digit pincode")
    for name in ("name", "address", "phone"):
        if not str(consignee.get(name) or "").strip():
            found.append(f"consignee.{name} is required")
    if not (body.get("pickup") or {}).get("warehouse_name"):
        found.append("pickup.warehouse_name is required")
    if not body.get("order_items"):
        found.append("order_items is required")
    return found


@router.post("/shipments2", dependencies=authed)
async def book(request: Request, state: State) -> dict[str, Any]:
    body = await request.json()
    found = problems(body)
    if found:
        return {"status": False, "message": "; ".join(found)}
    account = state.xpressbees
    async with account.lock:
        order = account.orders.get(str(body["order_number"]))
        if order is None:
            async with state.courier.lock:
                awb = state.courier.issue_waybill()
            order = BookedOrder(
                reference=str(body["order_number"]),
                order_id=account.next_id,
                shipment_id=account.next_id,
                request=body,
                pickup_location=str(body["pickup"]["warehouse_name"]),
                pincode=str(body["consignee"]["pincode"]),
                awb=awb,
                created_at=utc_now(),
            )
            account.next_id += 1
            account.orders[order.reference] = order
            account.by_awb[awb] = order
            async with state.simulation.lock:
                state.simulation.book(
                    "xpressbees",
                    awb,
                    order.reference,
                    origin=order.pickup_location,
                    destination=order.pincode,
                )
    return {
        "status": True,
        "data": {
            "order_id": order.order_id,
            "shipment_id": order.shipment_id,
            "awb_number": order.awb,
            "courier_id": "1",
            "courier_name": "Xpressbees Surface",
            "status": "booked",
            "payment_type": body["payment_type"],
            "routing_code": f"XB/{order.pincode[:3]}",
        },
    }


@router.post("/shipments2/cancel", dependencies=authed)
async def cancel(request: Request, state: State) -> dict[str, Any]:
    awb = str((await request.json()).get("awb") or "")
    async with state.xpressbees.lock, state.simulation.lock:
        order = state.xpressbees.by_awb.get(awb)
        if order is None:
            return {"status": False, "message": "AWB not found"}
        parcel = state.simulation.parcels.get(("xpressbees", awb))
        if parcel is not None and parcel.events:
            return {"status": False, "message": "Shipment already picked up"}
        order.cancelled = True
        if parcel is not None:
            parcel.cancelled = True
    return {"status": True, "message": "Shipment cancelled"}


@router.get("/shipments2/track/{awb}", dependencies=authed)
async def track(awb: str, state: State) -> dict[str, Any]:
    async with state.xpressbees.lock:
        order = state.xpressbees.by_awb.get(awb)
        history = list(order.scans) if order else []
    if order is None:
        return {"status": False, "message": "AWB not found"}
    return {
        "status": True,
        "data": {
            "awb_number": awb,
            "status": history[-1]["status"] if history else "booked",
            "history": list(reversed(history)),
        },
    }


@router.post("/ndr/create", dependencies=authed)
async def ndr_create(request: Request, state: State) -> list[dict[str, Any]]:
    items = await request.json()
    results = []
    async with state.simulation.lock:
        for item in items if isinstance(items, list) else []:
            action = str(item.get("action") or "")
            if action not in ("re-attempt", "change_address", "change_phone", "rto"):
                results.append(
                    {"status": False, "awb": item.get("awb"), "message": f"unknown action {action}"}
                )
                continue
            why = state.simulation.act(
                "xpressbees", str(item.get("awb")), "rto" if action == "rto" else "reattempt"
            )
            results.append(
                {"status": why is None, "awb": item.get("awb"), "message": why or "NDR action created"}
            )
    return results


def event_of(parcel: Parcel, event: RoadEvent) -> dict[str, Any]:
    code, label = ROAD_CODES[event.step]
    return {
        "awb_number": parcel.awb,
        "order_number": parcel.reference,
        "status_code": code,
        "status": label,
        "event_time": event.at.astimezone(IST).isoformat(timespec="milliseconds"),
        "location": event.location,
        "message": NDR_TEXT.get(event.ndr_reason or "", label) if event.step is Step.NDR else label,
        "attempt": event.attempt if event.step is Step.NDR else None,
    }


def make_recorder(sandbox: SandboxState) -> Recorder:
    def record(parcel: Parcel, event: RoadEvent) -> None:
        order = sandbox.xpressbees.by_awb.get(parcel.awb)
        if order is not None:
            order.scans.append(event_of(parcel, event))

    return record


def make_renderer(settings: SandboxSettings) -> WebhookRenderer:
    def render(parcel: Parcel, event: RoadEvent) -> tuple[str, dict[str, str], bytes]:
        body = json.dumps(event_of(parcel, event)).encode()
        signature = hmac.new(settings.xpressbees_webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        return "/webhooks/couriers/xpressbees", {"X-Xb-Signature": signature}, body

    return render
