"""HTTP routes of the routing service: warehouses, rules, and why an order went where it went."""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Any

import indian_pincode
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from chassis.auth import STAFF, Principal, Role, require
from chassis.clock import utcnow
from chassis.http import created, errors, follow
from chassis.pages import Cursor, Limit, Page, after_key, after_number, next_key
from chassis.refusal import Refusal
from contracts.enums import Channel
from contracts.routing import WarehouseChanged
from services.routing import domain, records, store

router = APIRouter(tags=["routing"])

PINCODE = r"^[1-9][0-9]{5}$"
Code = Annotated[str, Path(min_length=1, max_length=32, examples=["BOM1"])]
OrderId = Annotated[str, Path(min_length=1, max_length=64)]
RuleId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class WarehouseIn(BaseModel):
    """A warehouse; its coordinates come from its pincode."""

    code: Annotated[str, Field(min_length=1, max_length=32, examples=["BOM1"])]
    name: Annotated[str, Field(min_length=1, max_length=200, examples=["Bhiwandi"])]
    pincode: Annotated[str, Field(pattern=PINCODE, examples=["421302"])]
    active: bool = True
    priority: Annotated[
        int, Field(ge=-1000, le=1000, description="Breaks ties between equally good warehouses; higher wins.")
    ] = 0
    daily_capacity: Annotated[
        int | None, Field(ge=0, le=1_000_000, description="Orders per day; none = unlimited.")
    ] = None
    cutoff_time: Annotated[
        time | None,
        Field(
            description="IST time from which orders dispatch the next working day; orders promises "
            "dispatch-by from it (ADR 0361). None: the default cut-off.",
            examples=["14:00"],
        ),
    ] = None


class Placed(BaseModel):
    """Where a warehouse is, as its pincode says."""

    code: str
    state: str
    latitude: float
    longitude: float


class Warehouse(BaseModel):
    """A warehouse as routing knows it."""

    code: str
    name: str
    pincode: str
    state: str
    latitude: float
    longitude: float
    active: bool
    priority: int
    daily_capacity: int | None
    cutoff_time: time | None
    updated_at: datetime


@router.put(
    "/warehouses/{code}",
    summary="Create or update a warehouse",
    dependencies=[require(Role.OPS)],
    response_model=Placed,
)
async def put_warehouse(request: Request, code: Code, body: WarehouseIn) -> dict[str, Any]:
    if body.code != code:
        raise Refusal("code", f"must match the URL ({code})")
    state = indian_pincode.get_state(body.pincode)
    where = domain.coordinates(body.pincode)
    if state is None or where is None:
        raise Refusal("pincode", f"{body.pincode} is not a known Indian pincode")
    wh = domain.Warehouse(
        code=code,
        name=body.name,
        pincode=body.pincode,
        latitude=where[0],
        longitude=where[1],
        priority=body.priority,
        daily_capacity=body.daily_capacity,
        cutoff=body.cutoff_time,
    )
    service = request.app.state.service
    async with service.pool.acquire() as conn, conn.transaction():
        await store.upsert_warehouse(conn, wh=wh, state=state, active=body.active)
        # Orders promises dispatch-by from the warehouse's cut-off (ADR 0361): it hears of it here.
        await service.emit(
            conn,
            WarehouseChanged(
                warehouse_code=code, active=body.active, cutoff_time=body.cutoff_time, changed_at=utcnow()
            ),
        )
    return {"code": code, "state": state, "latitude": where[0], "longitude": where[1]}


@router.get(
    "/warehouses",
    summary="Every warehouse, by code, a page at a time",
    dependencies=[require(*STAFF)],
    response_model=Page[Warehouse],
)
async def list_warehouses(request: Request, cursor: Cursor = None, limit: Limit = 100) -> dict[str, Any]:
    pool = request.app.state.service.pool
    rows = await store.all_warehouses(pool, after=after_key(cursor), limit=limit)
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r.code)}


class RuleKind(StrEnum):
    PREFER_FOR_CHANNEL = "prefer_for_channel"
    EXCLUDE_PINCODES = "exclude_pincodes"
    PIN_SKU = "pin_sku"


class RuleIn(BaseModel):
    """A routing rule: prefer a warehouse for a channel, keep a warehouse away from a pincode
    range, or pin a SKU to a warehouse (several pins: any of them)."""

    kind: RuleKind
    warehouse_code: Annotated[str, Field(min_length=1, max_length=32)]
    channel: Channel | None = None
    pincode_from: Annotated[str | None, Field(pattern=PINCODE)] = None
    pincode_to: Annotated[str | None, Field(pattern=PINCODE)] = None
    sku: Annotated[str | None, Field(min_length=1, max_length=64)] = None

    def problems(self) -> list[tuple[str, str]]:
        """What this kind of rule is missing (defaults are not validated, so checked here)."""
        if self.kind is RuleKind.PREFER_FOR_CHANNEL and self.channel is None:
            return [("channel", "required for prefer_for_channel")]
        if self.kind is RuleKind.PIN_SKU and self.sku is None:
            return [("sku", "required for pin_sku")]
        if self.kind is RuleKind.EXCLUDE_PINCODES:
            found = [
                (f, "required for exclude_pincodes")
                for f in ("pincode_from", "pincode_to")
                if not getattr(self, f)
            ]
            if not found and self.pincode_to < self.pincode_from:  # type: ignore[operator]
                found.append(("pincode_to", f"must not be below pincode_from ({self.pincode_from})"))
            return found
        return []


class Rule(BaseModel):
    """A routing rule as stored, with who added it."""

    id: int
    kind: RuleKind
    warehouse_code: str
    channel: Channel | None
    pincode_from: str | None
    pincode_to: str | None
    sku: str | None
    created_by: str
    created_at: datetime


@router.post(
    "/rules",
    status_code=201,
    summary="Add a routing rule",
    response_model=Rule,
    responses={
        201: created(
            "The rule", DeleteRule=follow("DELETE", "/rules/{rule_id}", rule_id="$response.body#/id")
        )
    },
)
async def add_rule(request: Request, body: RuleIn, principal: Principal = require(Role.OPS)) -> records.Rule:
    problems = body.problems()
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        if not await store.warehouse_exists(conn, body.warehouse_code):
            problems.append(("warehouse_code", f"no warehouse {body.warehouse_code}"))
        if problems:
            raise Refusal.of(problems)
        rule = await store.add_rule(conn, rule=body.model_dump(mode="json"), actor=principal.actor)
    return rule


@router.get(
    "/rules",
    summary="Every routing rule, oldest first, a page at a time",
    dependencies=[require(*STAFF)],
    response_model=Page[Rule],
)
async def list_rules(request: Request, cursor: Cursor = None, limit: Limit = 100) -> dict[str, Any]:
    pool = request.app.state.service.pool
    rows = await store.list_rules(pool, after=after_number(cursor), limit=limit)
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r.id)}


@router.delete(
    "/rules/{rule_id}",
    status_code=204,
    summary="Remove a routing rule",
    dependencies=[require(Role.OPS)],
    responses=errors(404),
)
async def delete_rule(request: Request, rule_id: RuleId) -> None:
    if not await store.delete_rule(request.app.state.service.pool, rule_id):
        raise Refusal("rule_id", f"no rule {rule_id}", status=404)


class Attempt(BaseModel):
    """One routing attempt: the ranked plans, the warehouses left out and why, what came of it."""

    attempt: int
    customer_pincode: str
    decided_at: datetime
    plans: list[dict[str, Any]]
    left_out: list[str]
    outcome: str | None


class Explanation(BaseModel):
    """Every plan made for an order, first attempt first."""

    order_id: str
    attempts: list[Attempt]


@router.get(
    "/routes/{order_id}/explain",
    summary="The plans made for an order and why",
    dependencies=[require(*STAFF)],
    response_model=Explanation,
    responses=errors(404),
)
async def explain(request: Request, order_id: OrderId) -> dict[str, Any]:
    decisions = await store.decisions(request.app.state.service.pool, order_id)
    if not decisions:
        raise Refusal("order_id", f"no routing decision for {order_id}", status=404)
    return {"order_id": order_id, "attempts": decisions}
