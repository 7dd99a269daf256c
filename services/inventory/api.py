"""HTTP routes of the inventory service: receive stock and read it per SKU."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from chassis.auth import STAFF, Role, require
from services.inventory import handlers, store

router = APIRouter(prefix="/stock", tags=["stock"])


class Receipt(BaseModel):
    """Units that arrived at a warehouse, e.g. against a purchase order."""

    sku: Annotated[str, Field(min_length=1, max_length=64, examples=["TEA-ASSAM-250"])]
    warehouse_code: Annotated[str, Field(min_length=1, max_length=32, examples=["BOM1"])]
    quantity: Annotated[int, Field(gt=0, le=1_000_000, examples=[120])]
    reference: Annotated[str | None, Field(max_length=128, examples=["PO-2026-118"])] = None


@router.post(
    "/receipts",
    status_code=201,
    summary="Receive units into a warehouse",
    dependencies=[require(Role.WAREHOUSE, Role.OPS)],
)
async def receive(request: Request, receipt: Receipt) -> dict[str, Any]:
    service = request.app.state.service
    async with service.pool.acquire() as conn, conn.transaction():
        await store.receive(
            conn,
            sku=receipt.sku,
            warehouse_code=receipt.warehouse_code,
            quantity=receipt.quantity,
            reference=receipt.reference,
            actor="api",
        )
        for change in await handlers.stock_changed(conn, [receipt.sku]):
            await service.emit(conn, change)
        rows = await store.stock_of(conn, receipt.sku)
    return {"sku": receipt.sku, "warehouses": [dict(r) for r in rows]}


@router.get(
    "/{sku}",
    summary="On hand, reserved and available of one SKU per warehouse",
    dependencies=[require(*STAFF)],
)
async def get_stock(request: Request, sku: str) -> dict[str, Any]:
    rows = await store.stock_of(request.app.state.service.pool, sku)
    if not rows:
        raise HTTPException(404, detail=f"no stock recorded for SKU {sku}")
    return {"sku": sku, "warehouses": [dict(r) for r in rows]}
