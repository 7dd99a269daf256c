"""HTTP routes of the shipping service: shipments, NDR instructions, courier data and SKU sizes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from chassis.auth import STAFF, Principal, Role, require
from chassis.clock import utcnow
from chassis.http import errors, upload
from chassis.pages import Cursor, Limit, Page, after_key, next_key
from chassis.refusal import Refusal
from contracts import Address, ShipmentStatus
from services.shipping import announce, catalogue, domain, records, reference, store, updates
from services.shipping.couriers.interface import CourierAdapter, NdrAction, NdrActionKind
from services.shipping.domain.allocation import Dimensions

router = APIRouter(tags=["shipments"])

ShipmentId = Annotated[str, Path(min_length=1, max_length=64)]
SkuPath = Annotated[str, Path(min_length=1, max_length=64, examples=["TEA-ASSAM-250"])]
Source = Annotated[str, Query(min_length=1, max_length=200, description="Where the file came from.")]


class Shipment(BaseModel):
    """A shipment: where from, which courier and AWB, why that courier, its canonical status."""

    shipment_id: str
    order_id: str
    warehouse_code: str
    status: str
    courier: str | None
    awb: str | None
    lines: list[dict[str, Any]] = Field(description="Each line's sku and quantity.")
    value_paise: int
    cod_amount_paise: int
    booking_error: str | None
    created_at: datetime
    updated_at: datetime
    allocation: dict[str, Any] | None = Field(description="Ranked couriers and exclusions, with reasons.")
    booking_attempts: list[dict[str, Any]]
    routing_code: str | None
    chargeable_grams: int | None
    package_grams: int | None
    priority: int
    dispatch_by: datetime | None = Field(description="The order's promise to leave the warehouse by.")
    pickup_date: date | None = Field(description="The IST day the courier is to collect it.")
    ndr_attempts: int
    ndr_reason: str | None
    return_id: str | None
    manifest_id: str | None
    packed_by: str | None
    packed_at: datetime | None
    picked_by: str | None = Field(default=None, description="Who took it onto a pick list.")
    picked_at: datetime | None = None
    consignee: dict[str, Any] | None = Field(description="Name, phone and address on the label.")
    marketplace: str | None = Field(
        default=None,
        description="The marketplace whose own logistics carry it (flipkart, amazon): no courier of ours "
        "is booked, the AWB comes from the marketplace. None: a courier of ours carries it.",
    )


class Scan(BaseModel):
    """One courier scan as it arrived; `applied` false for late, repeated or informational ones."""

    courier_code: str
    status: str | None
    occurred_at: datetime
    location: str | None
    ndr_reason: str | None
    remark: str | None
    applied: bool
    source: str


class NdrActionRecord(BaseModel):
    """An instruction given to the courier about a failed delivery, and whether it was sent."""

    attempt: int
    action: str
    reattempt_on: date | None
    new_phone: str | None
    actor: str
    state: str
    error: str | None
    created_at: datetime
    sent_at: datetime | None


class ShipmentDetail(Shipment):
    """A shipment with its tracking history and NDR instructions."""

    tracking: list[Scan]
    ndr_actions: list[NdrActionRecord]


@router.get(
    "/shipments",
    summary="The shipments of one order, a page at a time",
    dependencies=[require(*STAFF)],
    response_model=Page[Shipment],
)
async def list_shipments(
    request: Request,
    order_id: Annotated[str, Query(min_length=1, max_length=64)],
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    pool = request.app.state.service.pool
    rows = await store.list_for_order(pool, order_id, after=after_key(cursor), limit=limit)
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r.shipment_id)}


@router.get(
    "/shipments/{shipment_id}",
    summary="One shipment: courier, AWB, allocation reasons, tracking and NDR instructions",
    dependencies=[require(*STAFF)],
    response_model=ShipmentDetail,
    responses=errors(404),
)
async def get_shipment(request: Request, shipment_id: ShipmentId) -> records.ShipmentDetail:
    found = await store.shipment_detail(request.app.state.service.pool, shipment_id)
    if found is None:
        raise Refusal("shipment_id", f"no shipment {shipment_id}", status=404)
    return found


class NdrInstruction(BaseModel):
    """What to tell the courier about a failed delivery."""

    action: Literal["reattempt", "new_address", "new_phone", "rto"]
    reattempt_on: date | None = Field(default=None, description="For reattempt: the day to deliver.")
    new_address: Address | None = None
    new_phone: str | None = Field(default=None, max_length=20, description="E.164, e.g. +919812345678.")


class NdrQueued(BaseModel):
    """An NDR instruction queued for the courier (sent outside the transaction)."""

    shipment_id: str
    attempt: int
    action: str
    state: str


@router.post(
    "/shipments/{shipment_id}/ndr-actions",
    summary="Act on a failed delivery",
    status_code=202,
    response_model=NdrQueued,
    responses=errors(404, 409),
)
async def act_on_ndr(
    request: Request,
    shipment_id: ShipmentId,
    body: NdrInstruction,
    principal: Principal = require(Role.OPS),
) -> dict[str, Any]:
    problems = []
    if body.action == "new_address" and body.new_address is None:
        problems.append(("new_address", "required for new_address"))
    if body.action == "new_phone" and not body.new_phone:
        problems.append(("new_phone", "required for new_phone"))
    if (late := domain.reattempt_day_problem(body.reattempt_on, now=utcnow())) is not None:
        problems.append(("reattempt_on", late))
    if problems:
        raise Refusal.of(problems)
    action = NdrAction(
        kind=NdrActionKind(body.action),
        reattempt_on=body.reattempt_on,
        new_address=body.new_address,
        new_phone=body.new_phone,
        remark=f"by {principal.actor}",
    )
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        attempt = await updates.queue_ndr_action(
            conn, shipment_id=shipment_id, action=action, actor=principal.actor
        )
    return {"shipment_id": shipment_id, "attempt": attempt, "action": body.action, "state": "pending"}


class SkuSize(BaseModel):
    """One unit of a SKU as the warehouse packs it."""

    weight_grams: int = Field(gt=0, le=100_000, description="Up to 100 kg: beyond is freight, not parcel.")
    length_cm: float = Field(gt=0, le=300, allow_inf_nan=False)
    breadth_cm: float = Field(gt=0, le=300, allow_inf_nan=False)
    height_cm: float = Field(gt=0, le=300, allow_inf_nan=False)
    barcode: str | None = Field(
        default=None, min_length=1, max_length=64, description="What the pack station scans."
    )


class SkuSizeOf(SkuSize):
    """A SKU's size as stored."""

    sku: str


class CourierData(BaseModel):
    """One courier's reference data: pincodes served, zones priced, and when each was loaded."""

    courier: str
    pincodes: int | None
    serviceability_loaded_at: datetime | None
    serviceability_source: str | None
    zones: int | None
    rate_card_loaded_at: datetime | None
    rate_card_source: str | None


class Loaded(BaseModel):
    """What a CSV load replaced."""

    loaded: int
    couriers: list[str]
    source: str


class MarketplaceAwb(BaseModel):
    """The AWB a marketplace's own logistics gave a parcel it carries."""

    awb: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$", examples=["FMPC0000000001"])
    tracking_url: str | None = Field(default=None, max_length=500, description="The buyer's tracking page.")


class Booked(BaseModel):
    """A shipment booked on a second try."""

    shipment_id: str
    courier: str
    awb: str
    by: str


@router.put(
    "/skus/{sku}/dimensions",
    summary="Weight, size and barcode of one unit of a SKU",
    dependencies=[require(Role.OPS, Role.WAREHOUSE)],
    response_model=SkuSizeOf,
)
async def put_dimensions(request: Request, sku: SkuPath, body: SkuSize) -> dict[str, Any]:
    dims = Dimensions(body.weight_grams, body.length_cm, body.breadth_cm, body.height_cm)
    async with request.app.state.service.pool.acquire() as conn:
        try:
            await reference.upsert_dimensions(conn, sku, body.barcode, dims)
        except asyncpg.UniqueViolationError:
            raise Refusal("barcode", f"{body.barcode} already belongs to another SKU") from None
    return {"sku": sku, **body.model_dump()}


@router.get(
    "/couriers",
    summary="Courier data: pincodes served, zones priced, when loaded",
    dependencies=[require(*STAFF)],
    response_model=Page[CourierData],
)
async def couriers(request: Request, cursor: Cursor = None, limit: Limit = 100) -> dict[str, Any]:
    pool = request.app.state.service.pool
    rows = await reference.courier_data_summary(pool, after=after_key(cursor), limit=limit)
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r["courier"])}


async def _csv(request: Request) -> str:
    try:
        return (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal("body", "CSV must be UTF-8 text") from None


async def _load(request: Request, text: str, table: str, source: str) -> dict[str, Any]:
    settings = request.app.state.service.settings
    parse = catalogue.parse_serviceability if table == "serviceability" else catalogue.parse_rate_cards
    rows, problems = parse(text, couriers=settings.courier_names)
    if problems:
        raise Refusal.of(problems)
    replace = reference.replace_serviceability if table == "serviceability" else reference.replace_rate_cards
    service = request.app.state.service
    async with service.pool.acquire() as conn, conn.transaction():
        await replace(conn, rows, source=source)  # type: ignore[arg-type]
        if table == "serviceability":
            # Routing holds back orders no courier serves: it learns every change (ADR 0311, 0410).
            await announce.serviceability_loaded(conn, service.emit)
    return {"loaded": len(rows), "couriers": sorted({r.courier for r in rows}), "source": source}


@router.post(
    "/couriers/serviceability",
    summary="Replace couriers' serviceability from CSV (courier,pincode,prepaid,cod,reverse_pickup[,pickup])",
    dependencies=[require(Role.OPS)],
    response_model=Loaded,
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
@upload
async def load_serviceability(request: Request, source: Source = "upload") -> dict[str, Any]:
    return await _load(request, await _csv(request), "serviceability", source)


@router.post(
    "/couriers/rate-cards",
    summary="Replace couriers' rate cards from CSV (one row per courier and zone)",
    dependencies=[require(Role.OPS)],
    response_model=Loaded,
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
@upload
async def load_rate_cards(request: Request, source: Source = "upload") -> dict[str, Any]:
    return await _load(request, await _csv(request), "rate_cards", source)


@router.put(
    "/shipments/{shipment_id}/marketplace-awb",
    summary="Record the AWB the marketplace's own logistics gave a parcel it carries (ADR 331, 370)",
    response_model=Booked,
    responses=errors(404, 409),
)
async def record_marketplace_awb(
    request: Request, shipment_id: ShipmentId, body: MarketplaceAwb, principal: Principal = require(Role.OPS)
) -> dict[str, Any]:
    service = request.app.state.service
    async with service.pool.acquire() as conn, conn.transaction():
        row = await store.lock_shipment(conn, shipment_id)
        if row is None:
            raise Refusal("shipment_id", f"no shipment {shipment_id}", status=404)
        await updates.record_marketplace_awb(
            conn, row, awb=body.awb, tracking_url=body.tracking_url, emit=lambda e: service.emit(conn, e)
        )
    return {"shipment_id": shipment_id, "courier": row.marketplace, "awb": body.awb, "by": principal.actor}


class MarketplaceNews(BaseModel):
    """What a marketplace reports of a parcel its own logistics carry."""

    status: Literal["PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"] = Field(
        description="The canonical status the marketplace's report maps to."
    )
    code: str = Field(
        min_length=1, max_length=64, examples=["PICKUP_COMPLETE"], description="The marketplace's own state."
    )
    occurred_at: datetime = Field(description="When the marketplace says it happened (with offset).")


class NewsApplied(BaseModel):
    """Where the shipment stands after the report; ``moved`` empty for a repeat or late one."""

    shipment_id: str
    status: str
    moved: list[str]


@router.post(
    "/shipments/{shipment_id}/marketplace-news",
    summary="Apply what the marketplace reports of a parcel it carries: picked up, delivered (ADR 371)",
    response_model=NewsApplied,
    responses=errors(404, 409),
)
async def apply_marketplace_news(
    request: Request, shipment_id: ShipmentId, body: MarketplaceNews, principal: Principal = require(Role.OPS)
) -> dict[str, Any]:
    service = request.app.state.service
    if body.occurred_at.tzinfo is None:
        raise Refusal("occurred_at", "needs a UTC offset")
    async with service.pool.acquire() as conn, conn.transaction():
        row = await store.lock_shipment(conn, shipment_id)
        if row is None:
            raise Refusal("shipment_id", f"no shipment {shipment_id}", status=404)
        moved = await updates.apply_marketplace_news(
            conn,
            row,
            status=ShipmentStatus(body.status),
            code=body.code,
            occurred_at=body.occurred_at,
            emit=lambda e: service.emit(conn, e),
            max_attempts=service.settings.ndr_max_attempts,
        )
    status = moved[-1] if moved else row.status
    return {"shipment_id": shipment_id, "status": status.value, "moved": [m.value for m in moved]}


def booking_router(adapters: dict[str, CourierAdapter]) -> APIRouter:
    """Routes that call couriers, so they need the courier accounts."""
    router = APIRouter(tags=["shipments"])

    @router.post(
        "/shipments/{shipment_id}/book",
        summary="Try again to book a shipment no courier took",
        response_model=Booked,
        responses=errors(404, 409, 502),
    )
    async def book_again(
        request: Request, shipment_id: ShipmentId, principal: Principal = require(Role.OPS)
    ) -> dict[str, Any]:
        service = request.app.state.service
        async with service.pool.acquire() as conn, conn.transaction():
            row = await store.lock_shipment(conn, shipment_id)
            if row is None:
                raise Refusal("shipment_id", f"no shipment {shipment_id}", status=404)
            if row.marketplace is not None:
                raise Refusal(
                    "shipment_id",
                    f"{row.marketplace} carries this shipment with its own logistics; its AWB comes "
                    "from the marketplace, not from a courier of ours",
                    status=409,
                    error="carried by the marketplace",
                )
            if row.status != "CREATED" or row.consignee is None:
                raise Refusal(
                    "shipment_id",
                    f"shipment is {row.status}, already booked",
                    status=409,
                    error="already booked",
                )
            outcome = await updates.rebook(
                conn,
                row,
                emit=lambda event: service.emit(conn, event),
                settings=service.settings,
                adapters=adapters,
            )
        if outcome.booking is None:
            raise Refusal("courier", outcome.error or "not booked", status=502, error="not booked")
        return {
            "shipment_id": shipment_id,
            "courier": outcome.booking.courier,
            "awb": outcome.booking.awb,
            "by": principal.actor,
        }

    return router
