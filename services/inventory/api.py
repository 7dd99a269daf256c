"""HTTP routes of the inventory service: receive, adjust and transfer stock, set buffers and
reorder points, read stock and its ledger (the item master's routes are in items/api.py).

Every change records the caller (from the API key) as the actor of its ledger rows.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from chassis.auth import STAFF, Principal, Role, require
from chassis.http import created, errors, follow
from chassis.pages import Cursor, Limit, Page, after_number, next_key
from chassis.refusal import Refusal
from services.inventory import handlers, store

router = APIRouter(tags=["stock"])

SkuField = Annotated[str, Field(min_length=1, max_length=64, examples=["TEA-ASSAM-250"])]
WarehouseField = Annotated[str, Field(min_length=1, max_length=32, examples=["BOM1"])]
SkuPath = Annotated[str, Path(min_length=1, max_length=64, examples=["TEA-ASSAM-250"])]


class Receipt(BaseModel):
    """Units that arrived at a warehouse, e.g. against a purchase order."""

    sku: SkuField
    warehouse_code: WarehouseField
    quantity: Annotated[int, Field(gt=0, le=1_000_000, examples=[120])]
    reference: Annotated[str | None, Field(max_length=128, examples=["PO-2026-118"])] = None


class AdjustmentReason(StrEnum):
    CYCLE_COUNT = "cycle_count"
    DAMAGE = "damage"
    LOSS = "loss"
    FOUND = "found"


class Adjustment(BaseModel):
    """A correction of on hand with its reason: units damaged, lost, found or recounted."""

    sku: SkuField
    warehouse_code: WarehouseField
    reason: AdjustmentReason
    delta: Annotated[int, Field(ge=-1_000_000, le=1_000_000, examples=[-2])]
    note: Annotated[str | None, Field(max_length=256, examples=["2 jars broken in rack C4"])] = None

    @field_validator("delta")
    @classmethod
    def _direction(cls, delta: int, info: ValidationInfo) -> int:
        reason = info.data.get("reason")
        if delta == 0:
            raise ValueError("must not be 0")
        if reason in (AdjustmentReason.DAMAGE, AdjustmentReason.LOSS) and delta > 0:
            raise ValueError(f"a {reason} takes units away, so it must be negative")
        if reason is AdjustmentReason.FOUND and delta < 0:
            raise ValueError("found units are added, so it must be positive")
        return delta


class Transfer(BaseModel):
    """Units moved from one warehouse to another."""

    sku: SkuField
    from_warehouse: WarehouseField
    to_warehouse: WarehouseField
    quantity: Annotated[int, Field(gt=0, le=1_000_000)]
    reference: Annotated[str | None, Field(max_length=128, examples=["STN-0042"])] = None


class Levels(BaseModel):
    """A sale buffer (units held back from sale) and/or reorder point of a SKU, in the named
    warehouses or, when none are named, in every warehouse that stocks it."""

    warehouse_codes: Annotated[list[WarehouseField] | None, Field(min_length=1, max_length=100)] = None
    buffer: Annotated[int | None, Field(ge=0, le=1_000_000)] = None
    reorder_point: Annotated[int | None, Field(ge=0, le=1_000_000)] = None


class WarehouseStock(BaseModel):
    """One SKU in one warehouse: available = on hand - reserved - buffer (never below 0), leaving out
    what rehearsal orders hold (ADR 0360)."""

    warehouse_code: str
    on_hand: int
    reserved: int
    buffer: int
    available: int
    reorder_point: int | None
    updated_at: datetime


class Quarantined(BaseModel):
    """Units held apart in a warehouse after failing QC."""

    warehouse_code: str
    quantity: int


class Stock(BaseModel):
    """A SKU's numbers in every warehouse that stocks it."""

    sku: str
    warehouses: list[WarehouseStock]


class StockDetail(Stock):
    """A SKU's numbers, with the units quarantined after QC."""

    quarantined: list[Quarantined]


class Movement(BaseModel):
    """One ledger row: what changed on hand and reserved, why, and who did it."""

    id: int
    warehouse_code: str
    on_hand_delta: int
    reserved_delta: int
    kind: str
    reference: str | None
    actor: str | None
    at: datetime


async def _announce(request: Request, conn: Any, pairs: set[tuple[str, str]]) -> None:
    service = request.app.state.service

    async def emit(event: Any) -> None:
        await service.emit(conn, event)

    await handlers.announce(conn, pairs, emit)


async def _stock(conn: Any, sku: str) -> dict[str, Any]:
    return {"sku": sku, "warehouses": await store.stock_of(conn, sku)}


@router.post(
    "/stock/receipts",
    status_code=201,
    summary="Receive units into a warehouse",
    response_model=Stock,
    responses={
        201: created(
            "The SKU's stock after the receipt",
            GetStock=follow("GET", "/stock/{sku}", sku="$response.body#/sku"),
            GetMovements=follow("GET", "/stock/{sku}/movements", sku="$response.body#/sku"),
            SetLevels=follow("PUT", "/stock/{sku}/levels", sku="$response.body#/sku"),
        )
    },
)
async def receive(
    request: Request, receipt: Receipt, principal: Principal = require(Role.WAREHOUSE, Role.OPS)
) -> dict[str, Any]:
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        await store.receive(
            conn,
            sku=receipt.sku,
            warehouse_code=receipt.warehouse_code,
            quantity=receipt.quantity,
            reference=receipt.reference,
            actor=principal.actor,
        )
        await _announce(request, conn, {(receipt.sku, receipt.warehouse_code)})
        return await _stock(conn, receipt.sku)


@router.post(
    "/stock/adjustments",
    status_code=201,
    summary="Correct on hand, with a reason",
    response_model=Stock,
    responses=errors(409),
)
async def adjust(
    request: Request, body: Adjustment, principal: Principal = require(Role.WAREHOUSE, Role.OPS)
) -> dict[str, Any]:
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        try:
            await store.adjust(
                conn,
                sku=body.sku,
                warehouse_code=body.warehouse_code,
                delta=body.delta,
                kind=f"adjustment:{body.reason}",
                reference=body.note,
                actor=principal.actor,
            )
        except store.NotEnoughStock:
            raise Refusal(
                "delta",
                f"{body.warehouse_code} has no stock row for {body.sku}, or fewer unreserved units "
                f"than {-body.delta}: reserved units are promised to orders",
                status=409,
                error="adjustment refused",
            ) from None
        await _announce(request, conn, {(body.sku, body.warehouse_code)})
        return await _stock(conn, body.sku)


@router.post(
    "/stock/transfers",
    status_code=201,
    summary="Move units between warehouses",
    response_model=Stock,
    responses=errors(409),
)
async def transfer(
    request: Request, body: Transfer, principal: Principal = require(Role.WAREHOUSE, Role.OPS)
) -> dict[str, Any]:
    if body.from_warehouse == body.to_warehouse:
        raise Refusal("to_warehouse", "must differ from from_warehouse")
    reference = body.reference or f"{body.from_warehouse}->{body.to_warehouse}"
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        try:
            await store.adjust(
                conn,
                sku=body.sku,
                warehouse_code=body.from_warehouse,
                delta=-body.quantity,
                kind="transfer_out",
                reference=reference,
                actor=principal.actor,
            )
        except store.NotEnoughStock:
            raise Refusal(
                "quantity",
                f"{body.from_warehouse} has fewer than {body.quantity} unreserved units of {body.sku}",
                status=409,
                error="transfer refused",
            ) from None
        await store.receive(
            conn,
            sku=body.sku,
            warehouse_code=body.to_warehouse,
            quantity=body.quantity,
            reference=reference,
            actor=principal.actor,
            kind="transfer_in",
        )
        await _announce(request, conn, {(body.sku, body.from_warehouse), (body.sku, body.to_warehouse)})
        return await _stock(conn, body.sku)


@router.put(
    "/stock/{sku}/levels",
    summary="Set a SKU's sale buffer and/or reorder points",
    response_model=Stock,
    responses=errors(404),
)
async def set_levels(
    request: Request, sku: SkuPath, body: Levels, principal: Principal = require(Role.OPS)
) -> dict[str, Any]:
    if body.buffer is None and body.reorder_point is None:
        raise Refusal("buffer", "give a buffer, a reorder_point or both")
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        changed = await store.set_levels(
            conn,
            sku=sku,
            warehouse_codes=body.warehouse_codes,
            buffer=body.buffer,
            reorder_point=body.reorder_point,
            actor=principal.actor,
        )
        missing = sorted(set(body.warehouse_codes or []) - set(changed))
        if missing or not changed:
            raise Refusal(
                "warehouse_codes",
                f"no stock of {sku} recorded in {', '.join(missing) or 'any warehouse'}",
                status=404,
                error="unknown stock",
            )
        await _announce(request, conn, {(sku, wh) for wh in changed})
        return await _stock(conn, sku)


@router.get(
    "/stock/{sku}",
    summary="On hand, reserved, buffer and available per warehouse",
    dependencies=[require(*STAFF)],
    response_model=StockDetail,
    responses=errors(404),
)
async def get_stock(request: Request, sku: SkuPath) -> dict[str, Any]:
    pool = request.app.state.service.pool
    found = await _stock(pool, sku)
    if not found["warehouses"]:
        raise Refusal("sku", f"no stock recorded for SKU {sku}", status=404)
    found["quarantined"] = await store.quarantined(pool, sku)
    return found


@router.get(
    "/stock/{sku}/movements",
    summary="The ledger behind a SKU's numbers, newest first, a page at a time",
    dependencies=[require(*STAFF)],
    response_model=Page[Movement],
)
async def get_movements(
    request: Request, sku: SkuPath, cursor: Cursor = None, limit: Limit = 100
) -> dict[str, Any]:
    pool = request.app.state.service.pool
    rows = await store.movements(pool, sku, before=after_number(cursor), limit=limit)
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r.id)}
