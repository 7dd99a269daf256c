"""HTTP routes of the inventory service: receive, adjust and transfer stock, set buffers and
reorder points, read stock and its ledger, and keep the item master (CRUD and CSV import).

Every change records the caller (from the API key) as the actor of its ledger rows.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from chassis.auth import STAFF, Principal, Role, require
from chassis.http import Refused
from services.inventory import handlers, items, store

router = APIRouter(tags=["stock"])

SkuField = Annotated[str, Field(min_length=1, max_length=64, examples=["TEA-ASSAM-250"])]
MAX_CSV_BYTES = 5_000_000  # about 40,000 items; larger catalogues import in parts
WarehouseField = Annotated[str, Field(min_length=1, max_length=32, examples=["BOM1"])]


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

    warehouse_codes: list[WarehouseField] | None = None
    buffer: Annotated[int | None, Field(ge=0, le=1_000_000)] = None
    reorder_point: Annotated[int | None, Field(ge=0, le=1_000_000)] = None


async def _announce(request: Request, conn: Any, pairs: set[tuple[str, str]]) -> None:
    service = request.app.state.service

    async def emit(event: Any) -> None:
        await service.emit(conn, event)

    await handlers.announce(conn, pairs, emit)


async def _stock(conn: Any, sku: str) -> dict[str, Any]:
    return {"sku": sku, "warehouses": [dict(r) for r in await store.stock_of(conn, sku)]}


@router.post(
    "/stock/receipts",
    status_code=201,
    summary="Receive units into a warehouse",
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
            actor=principal.name,
        )
        await _announce(request, conn, {(receipt.sku, receipt.warehouse_code)})
        return await _stock(conn, receipt.sku)


@router.post("/stock/adjustments", status_code=201, summary="Correct on hand, with a reason")
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
                actor=principal.name,
            )
        except store.NotEnoughStock:
            raise Refused(
                (
                    "delta",
                    f"{body.warehouse_code} has no stock row for {body.sku}, or fewer unreserved units "
                    f"than {-body.delta}: reserved units are promised to orders",
                ),
                status=409,
                error="adjustment refused",
            ) from None
        await _announce(request, conn, {(body.sku, body.warehouse_code)})
        return await _stock(conn, body.sku)


@router.post("/stock/transfers", status_code=201, summary="Move units between warehouses")
async def transfer(
    request: Request, body: Transfer, principal: Principal = require(Role.WAREHOUSE, Role.OPS)
) -> dict[str, Any]:
    if body.from_warehouse == body.to_warehouse:
        raise Refused(("to_warehouse", "must differ from from_warehouse"))
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
                actor=principal.name,
            )
        except store.NotEnoughStock:
            raise Refused(
                (
                    "quantity",
                    f"{body.from_warehouse} has fewer than {body.quantity} unreserved units of {body.sku}",
                ),
                status=409,
                error="transfer refused",
            ) from None
        await store.receive(
            conn,
            sku=body.sku,
            warehouse_code=body.to_warehouse,
            quantity=body.quantity,
            reference=reference,
            actor=principal.name,
            kind="transfer_in",
        )
        await _announce(request, conn, {(body.sku, body.from_warehouse), (body.sku, body.to_warehouse)})
        return await _stock(conn, body.sku)


@router.put("/stock/{sku}/levels", summary="Set a SKU's sale buffer and/or reorder points")
async def set_levels(
    request: Request, sku: str, body: Levels, principal: Principal = require(Role.OPS)
) -> dict[str, Any]:
    if body.buffer is None and body.reorder_point is None:
        raise Refused(("buffer", "give a buffer, a reorder_point or both"))
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        changed = await store.set_levels(
            conn,
            sku=sku,
            warehouse_codes=body.warehouse_codes,
            buffer=body.buffer,
            reorder_point=body.reorder_point,
            actor=principal.name,
        )
        missing = sorted(set(body.warehouse_codes or []) - set(changed))
        if missing or not changed:
            raise Refused(
                ("warehouse_codes", f"no stock of {sku} recorded in {', '.join(missing) or 'any warehouse'}"),
                status=404,
                error="unknown stock",
            )
        await _announce(request, conn, {(sku, wh) for wh in changed})
        return await _stock(conn, sku)


@router.get(
    "/stock/{sku}",
    summary="On hand, reserved, buffer and available per warehouse",
    dependencies=[require(*STAFF)],
)
async def get_stock(request: Request, sku: str) -> dict[str, Any]:
    pool = request.app.state.service.pool
    found = await _stock(pool, sku)
    if not found["warehouses"]:
        raise HTTPException(404, detail=f"no stock recorded for SKU {sku}")
    found["quarantined"] = [dict(r) for r in await store.quarantined(pool, sku)]
    return found


@router.get(
    "/stock/{sku}/movements", summary="The ledger behind a SKU's numbers", dependencies=[require(*STAFF)]
)
async def get_movements(
    request: Request, sku: str, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> dict[str, Any]:
    rows = await store.movements(request.app.state.service.pool, sku, limit=limit)
    return {"sku": sku, "movements": [dict(r) for r in rows]}


# item master -------------------------------------------------------------------------------------


async def _save_items(request: Request, found: list[items.Item], actor: str, where: list[str]) -> None:
    """Save items all or nothing; a barcode already on another SKU is refused, naming the row."""
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        owners = await store.barcode_owners(conn, [i.barcode for i in found if i.barcode])
        clashes = [
            (f"{place}barcode", f"{i.barcode} already belongs to {owners[i.barcode]}")
            for i, place in zip(found, where, strict=True)
            if i.barcode and owners.get(i.barcode, i.sku) != i.sku
        ]
        if clashes:
            raise Refused(*clashes, status=409, error="barcode already in use")
        await store.upsert_items(conn, [i.model_dump() for i in found], actor=actor)


@router.put("/items/{sku}", summary="Create or replace an item")
async def put_item(
    request: Request, sku: str, body: items.Item, principal: Principal = require(Role.OPS)
) -> dict[str, Any]:
    if body.sku != sku:
        raise Refused(("sku", f"must match the URL ({sku})"))
    await _save_items(request, [body], principal.name, [""])
    return dict(await store.item(request.app.state.service.pool, sku) or {})


@router.get("/items/{sku}", summary="One item", dependencies=[require(*STAFF)])
async def get_item(request: Request, sku: str) -> dict[str, Any]:
    found = await store.item(request.app.state.service.pool, sku)
    if found is None:
        raise HTTPException(404, detail=f"no item {sku}")
    return dict(found)


@router.get("/items", summary="Items by SKU, a page at a time", dependencies=[require(*STAFF)])
async def list_items(
    request: Request,
    category: str | None = None,
    after: Annotated[str | None, Query(description="The last SKU of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    rows = await store.items(request.app.state.service.pool, category=category, limit=limit, after=after)
    return {"items": [dict(r) for r in rows], "next_after": rows[-1]["sku"] if len(rows) == limit else None}


@router.delete("/items/{sku}", status_code=204, summary="Remove an item that holds no stock")
async def delete_item(request: Request, sku: str, principal: Principal = require(Role.OPS)) -> None:
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        if await store.holds_stock(conn, sku):
            raise Refused(("sku", f"{sku} still has units on hand; adjust them out first"), status=409)
        if not await store.delete_item(conn, sku):
            raise HTTPException(404, detail=f"no item {sku}")


@router.post(
    "/items/import",
    summary="Create or replace items from a CSV (text/csv body, header row); all rows or none",
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def import_items(request: Request, principal: Principal = require(Role.OPS)) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise Refused(
            ("body", f"{len(raw):,} bytes; import at most {MAX_CSV_BYTES:,} bytes per file"), status=413
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refused(("body", f"not UTF-8 text at byte {exc.start}")) from None
    if not text.strip():
        raise Refused(("body", "empty; send a CSV with a header row"))
    found, problems = items.parse_csv(text)
    if problems:
        raise Refused(*problems, error="CSV refused; nothing was imported")
    await _save_items(request, found, principal.name, [f"sku {i.sku}: " for i in found])
    return {"imported": len(found), "skus": [i.sku for i in found]}
