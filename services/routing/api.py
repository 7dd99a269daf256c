"""HTTP routes of the routing service: warehouses, and why an order went where it went."""

from __future__ import annotations

import json
from typing import Annotated, Any

import indian_pincode
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from chassis.auth import STAFF, Role, require
from chassis.http import Refused
from services.routing import domain, store

router = APIRouter(tags=["routing"])


class WarehouseIn(BaseModel):
    """A warehouse; its coordinates come from its pincode."""

    code: Annotated[str, Field(min_length=1, max_length=32, examples=["BOM1"])]
    name: Annotated[str, Field(min_length=1, examples=["Bhiwandi"])]
    pincode: Annotated[str, Field(pattern=r"^[1-9][0-9]{5}$", examples=["421302"])]
    active: bool = True
    priority: int = 0


@router.put("/warehouses/{code}", summary="Create or update a warehouse", dependencies=[require(Role.OPS)])
async def put_warehouse(request: Request, code: str, body: WarehouseIn) -> dict[str, Any]:
    if body.code != code:
        raise Refused(("code", f"must match the URL ({code})"))
    state = indian_pincode.get_state(body.pincode)
    where = domain.coordinates(body.pincode)
    if state is None or where is None:
        raise Refused(("pincode", f"{body.pincode} is not a known Indian pincode"))
    wh = domain.Warehouse(
        code=code,
        name=body.name,
        pincode=body.pincode,
        latitude=where[0],
        longitude=where[1],
        priority=body.priority,
    )
    await store.upsert_warehouse(request.app.state.service.pool, wh=wh, state=state, active=body.active)
    return {"code": code, "state": state, "latitude": where[0], "longitude": where[1]}


@router.get("/warehouses", summary="Every warehouse", dependencies=[require(*STAFF)])
async def list_warehouses(request: Request) -> list[dict[str, Any]]:
    return [dict(r) for r in await store.all_warehouses(request.app.state.service.pool)]


@router.get(
    "/routes/{order_id}/explain",
    summary="The plans made for an order and why",
    dependencies=[require(*STAFF)],
)
async def explain(request: Request, order_id: str) -> dict[str, Any]:
    rows = await store.decisions(request.app.state.service.pool, order_id)
    if not rows:
        raise HTTPException(404, detail=f"no routing decision for {order_id}")
    return {
        "order_id": order_id,
        "attempts": [
            {
                "attempt": r["attempt"],
                "customer_pincode": r["customer_pincode"],
                "decided_at": r["decided_at"],
                "plans": json.loads(r["plans"]),
            }
            for r in rows
        ],
    }
