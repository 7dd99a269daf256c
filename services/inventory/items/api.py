"""HTTP routes of the item master: CRUD per SKU and CSV import, all rows or none."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from chassis.auth import STAFF, Principal, Role, require
from chassis.http import errors, upload
from chassis.pages import Cursor, Limit, Page, after_key, next_key
from chassis.refusal import Refusal
from services.inventory import records
from services.inventory.items import model as items
from services.inventory.items import store as items_store

router = APIRouter(tags=["items"])

SkuPath = Annotated[str, Path(min_length=1, max_length=64, examples=["TEA-ASSAM-250"])]
MAX_CSV_BYTES = 5_000_000  # about 40,000 items; larger catalogues import in parts


class StoredItem(BaseModel):
    """An item as the master holds it, with who changed it last."""

    sku: str
    name: str
    category: str | None
    barcode: str | None
    weight_grams: int
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    hsn_code: str | None
    mrp_paise: int
    updated_by: str
    created_at: datetime
    updated_at: datetime


class Imported(BaseModel):
    """What a CSV import created or replaced."""

    imported: int
    skus: list[str]


async def _save_items(request: Request, found: list[items.Item], actor: str, where: list[str]) -> None:
    """Save items all or nothing; a barcode already on another SKU is refused, naming the row."""
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        owners = await items_store.barcode_owners(conn, [i.barcode for i in found if i.barcode])
        clashes = [
            (f"{place}barcode", f"{i.barcode} already belongs to {owners[i.barcode]}")
            for i, place in zip(found, where, strict=True)
            if i.barcode and owners.get(i.barcode, i.sku) != i.sku
        ]
        if clashes:
            raise Refusal.of(clashes, status=409, error="barcode already in use")
        await items_store.upsert_items(conn, [i.model_dump() for i in found], actor=actor)


@router.put(
    "/items/{sku}", summary="Create or replace an item", response_model=StoredItem, responses=errors(409)
)
async def put_item(
    request: Request, sku: SkuPath, body: items.Item, principal: Principal = require(Role.OPS)
) -> records.Item:
    if body.sku != sku:
        raise Refusal("sku", f"must match the URL ({sku})")
    await _save_items(request, [body], principal.actor, [""])
    saved = await items_store.item(request.app.state.service.pool, sku)
    assert saved is not None
    return saved


@router.get(
    "/items/{sku}",
    summary="One item",
    dependencies=[require(*STAFF)],
    response_model=StoredItem,
    responses=errors(404),
)
async def get_item(request: Request, sku: SkuPath) -> records.Item:
    found = await items_store.item(request.app.state.service.pool, sku)
    if found is None:
        raise Refusal("sku", f"no item {sku}", status=404)
    return found


@router.get(
    "/items",
    summary="Items by SKU, a page at a time",
    dependencies=[require(*STAFF)],
    response_model=Page[StoredItem],
)
async def list_items(
    request: Request,
    category: Annotated[str | None, Query(max_length=80)] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    rows = await items_store.items(
        request.app.state.service.pool, category=category, limit=limit, after=after_key(cursor)
    )
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r.sku)}


@router.delete(
    "/items/{sku}",
    status_code=204,
    summary="Remove an item that holds no stock",
    responses=errors(404, 409),
)
async def delete_item(request: Request, sku: SkuPath, principal: Principal = require(Role.OPS)) -> None:
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        if await items_store.holds_stock(conn, sku):
            raise Refusal("sku", f"{sku} still has units on hand; adjust them out first", status=409)
        if not await items_store.delete_item(conn, sku):
            raise Refusal("sku", f"no item {sku}", status=404)


@router.post(
    "/items/import",
    summary="Create or replace items from a CSV (text/csv body, header row); all rows or none",
    response_model=Imported,
    responses=errors(409),
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
@upload
async def import_items(request: Request, principal: Principal = require(Role.OPS)) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise Refusal(
            "body", f"{len(raw):,} bytes; import at most {MAX_CSV_BYTES:,} bytes per file", status=413
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refusal("body", f"not UTF-8 text at byte {exc.start}") from None
    if not text.strip():
        raise Refusal("body", "empty; send a CSV with a header row")
    found, problems = items.parse_csv(text)
    if problems:
        raise Refusal.of(problems, error="CSV refused; nothing was imported")
    await _save_items(request, found, principal.actor, [f"sku {i.sku}: " for i in found])
    return {"imported": len(found), "skus": [i.sku for i in found]}
