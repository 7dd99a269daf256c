"""Sandbox-only control and inspection API under /_sandbox: faults, reset, recorded traffic.
Tests and the demo use it to look inside the simulated providers and to make them misbehave."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field, model_validator

from sandbox.errors import ProviderError
from sandbox.state import Fault, Provider, SandboxState, Scan, utc_now

router = APIRouter()


async def get_state(request: Request) -> SandboxState:
    """The app's single in-memory state (set by create_app). Async on purpose: FastAPI runs a
    plain `def` dependency in a worker thread, which cost more CPU than the whole call."""
    state: SandboxState = request.app.state.sandbox
    return state


State = Annotated[SandboxState, Depends(get_state)]


def fault_gate(
    provider: Provider, render: Callable[[int], ProviderError]
) -> Callable[[SandboxState], Awaitable[None]]:
    """A route dependency that applies the next armed fault before the provider handles a call.

    `render` turns an injected status code into that provider's own error shape, so adapters
    see failures exactly as they would from the real provider. A failed call changes no state.
    """

    async def gate(state: State) -> None:
        fault = await state.faults.take(provider)
        if fault is None:
            return
        if fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault.status_code is not None:
            raise render(fault.status_code)

    return gate


class FaultRequest(BaseModel):
    """Arm a fault: the next `fail_next` calls wait `delay_ms`, then fail with `status_code`.

    Leave `status_code` null for slow-but-successful calls; `fail_next: 0` disarms.
    """

    provider: Provider
    fail_next: int = Field(default=1, ge=0, le=10_000)
    status_code: Literal[400, 429, 500, 502, 503, 504] | None = None
    delay_ms: int = Field(default=0, ge=0, le=120_000)

    @model_validator(mode="after")
    def requires_an_effect(self) -> Self:
        if self.fail_next and self.status_code is None and not self.delay_ms:
            raise ValueError("set status_code, delay_ms or both")
        return self


class ScanRequest(BaseModel):
    """Move a shipment on, as the courier's hub scans would (Delhivery StatusType codes)."""

    status: str = Field(min_length=1, examples=["In Transit", "Delivered"])
    status_type: Literal["UD", "DL", "RT", "PP", "PU", "CN"]
    location: str = ""
    instructions: str = ""
    status_code: str = ""


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/_sandbox/reset")
async def reset(state: State) -> dict[str, str]:
    await state.reset()
    return {"status": "reset"}


@router.get("/_sandbox/faults")
async def list_faults(state: State) -> dict[str, Any]:
    async with state.faults.lock:
        return {p.value: f.as_dict() for p, f in state.faults.armed.items()}


@router.post("/_sandbox/faults")
async def arm_fault(body: FaultRequest, state: State) -> dict[str, Any]:
    async with state.faults.lock:
        if body.fail_next == 0:
            state.faults.armed.pop(body.provider, None)
        else:
            state.faults.armed[body.provider] = Fault(
                remaining=body.fail_next, status_code=body.status_code, delay_ms=body.delay_ms
            )
        return {p.value: f.as_dict() for p, f in state.faults.armed.items()}


@router.get("/_sandbox/whatsapp/messages")
async def list_whatsapp_messages(
    state: State, to: str | None = None, template: str | None = None
) -> list[dict[str, Any]]:
    wa_id = "".join(ch for ch in to if ch.isdigit()) if to else None
    async with state.whatsapp.lock:
        return [
            m.as_dict()
            for m in state.whatsapp.messages
            if (wa_id is None or m.wa_id == wa_id) and (template is None or m.template_name == template)
        ]


@router.get("/_sandbox/courier/shipments")
async def list_courier_shipments(
    state: State, order: str | None = None, waybill: str | None = None
) -> list[dict[str, Any]]:
    async with state.courier.lock:
        return [
            s.as_dict()
            for s in state.courier.shipments.values()
            if (order is None or s.order == order) and (waybill is None or s.waybill == waybill)
        ]


@router.post("/_sandbox/courier/shipments/{waybill}/scans")
async def add_courier_scan(waybill: str, body: ScanRequest, state: State) -> dict[str, Any]:
    async with state.courier.lock:
        shipment = state.courier.shipments.get(waybill)
        if shipment is None:
            raise HTTPException(status_code=404, detail=f"no shipment with waybill {waybill}")
        shipment.scans.append(
            Scan(
                status=body.status,
                status_type=body.status_type,
                location=body.location,
                instructions=body.instructions,
                status_code=body.status_code,
                at=utc_now(),
            )
        )
        return shipment.as_dict()


@router.get("/_sandbox/couriers/{courier}/parcels/{awb}/consignee")
async def courier_consignee(courier: str, awb: str, state: State) -> dict[str, Any]:
    """Whom and where a courier would deliver a parcel to now, in one shape for every courier:
    what a test reads back after Dabba changed a booked parcel's address."""
    if courier == "delhivery":
        async with state.courier.lock:
            shipment = state.courier.shipments.get(awb)
            if shipment is not None:
                held = shipment.consignee
                return {
                    "courier": courier,
                    "awb": awb,
                    "reference": shipment.order,
                    "name": held["name"],
                    "phone": held["phone"],
                    "address": held["add"],
                    "pincode": held["pin"],
                    "cancelled": shipment.current.status_type == "CN",
                    "edits": shipment.edits,
                }
    elif courier in ("shiprocket", "xpressbees"):
        account = state.shiprocket if courier == "shiprocket" else state.xpressbees
        async with account.lock:
            order = account.by_awb.get(awb)
            if order is not None:
                body = order.request
                if courier == "xpressbees":
                    to = body["consignee"]
                    name, phone, pincode = to["name"], to["phone"], to["pincode"]
                    street = [to.get("address"), to.get("address_2")]
                elif body.get("shipping_address"):
                    name, phone, pincode = (
                        body["shipping_customer_name"],
                        body["shipping_phone"],
                        body["shipping_pincode"],
                    )
                    street = [body.get("shipping_address"), body.get("shipping_address_2")]
                else:
                    name = f"{body['billing_customer_name']} {body.get('billing_last_name') or ''}".strip()
                    phone, pincode = body["billing_phone"], body["billing_pincode"]
                    street = [body.get("billing_address"), body.get("billing_address_2")]
                return {
                    "courier": courier,
                    "awb": awb,
                    "reference": order.reference,
                    "name": name,
                    "phone": str(phone),
                    "address": ", ".join(str(p) for p in street if p),
                    "pincode": str(pincode),
                    "cancelled": order.cancelled,
                    "edits": order.edits,
                }
    raise HTTPException(status_code=404, detail=f"{courier} has no parcel {awb}")
