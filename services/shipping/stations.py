"""HTTP routes of the warehouse floor: pick lists, the pack station's scans and weight, labels and
pickup manifests. Every unit is scanned against its shipment; a wrong or extra unit is refused and
counted, and a shipment packs only when its box holds exactly its lines."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from chassis.auth import STAFF, Principal, Role, require
from chassis.clock import utcnow
from chassis.db import Conn
from chassis.http import created, errors, follow, text_answer
from chassis.refusal import Refusal
from contracts import ShipmentStatus
from services.shipping import documents, records, reference, store, updates
from services.shipping.couriers.interface import Consignee, CourierAdapter, CourierError, Handover
from services.shipping.domain import packing
from services.shipping.records import Shipment

router = APIRouter(tags=["warehouse"])
FLOOR = (Role.OPS, Role.WAREHOUSE)
ShipmentId = Annotated[str, Path(min_length=1, max_length=64)]


class PickRequest(BaseModel):
    """Start picking a warehouse's waiting shipments."""

    warehouse_code: str = Field(min_length=1, max_length=32)
    limit: int = Field(default=200, ge=1, le=1000)
    shipment_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None,
        max_length=1000,
        description="Take only these (the ones a preview showed); those no longer waiting are left "
        "out of the answer. Absent: the warehouse's waiting shipments, up to `limit`.",
    )


class PickBatch(BaseModel):
    """Shipments one picker walks for together: one courier, the most urgent first."""

    courier: str
    shipment_ids: list[str]
    units: dict[str, int] = Field(description="SKU → units to pull off the shelves.")


class PickLists(BaseModel):
    """The shipments now PICKED, batched for the floor."""

    warehouse_code: str
    picker: str
    batches: list[PickBatch]


class PickPreview(BaseModel):
    """The pick lists a POST would make now, read only: no shipment is claimed or moves to PICKED."""

    warehouse_code: str
    as_of: datetime
    batches: list[PickBatch]
    late_shipment_ids: list[str] = Field(description="Listed shipments already past their dispatch-by.")


class LateWarehouse(BaseModel):
    """Parcels of one warehouse still inside past their dispatch-by promise."""

    warehouse_code: str
    late: int
    oldest_dispatch_by: datetime


class LateToDispatch(BaseModel):
    """Forward shipments not yet handed to a courier whose order's dispatch-by has passed."""

    as_of: datetime
    late: int
    warehouses: list[LateWarehouse]


def _to_pick(rows: list[Shipment]) -> list[packing.ToPick]:
    return [
        packing.ToPick(
            r.shipment_id,
            r.marketplace or r.booking()[0],
            r.priority,
            tuple(sorted(r.units.items())),
            dispatch_by=r.dispatch_by,
        )
        for r in rows
    ]


def _batches(waiting: list[packing.ToPick]) -> list[dict[str, Any]]:
    return [
        {"courier": b.courier, "shipment_ids": list(b.shipment_ids), "units": b.units}
        for b in packing.pick_batches(waiting)
    ]


class Scanned(BaseModel):
    """A unit in the box, and what the box still misses (SKU → units)."""

    shipment_id: str
    sku: str
    outcome: str
    missing: dict[str, int]


class Packed(BaseModel):
    """A box closed and weighed."""

    shipment_id: str
    status: str
    weight_grams: int


class PackStats(BaseModel):
    """Packing mistakes the pack station caught, in one warehouse or all."""

    scans: int
    wrong_items: int
    extra_items: int
    shipments_scanned: int
    shipments_with_errors: int
    order_error_rate: float


class Manifest(BaseModel):
    """Parcels handed to a courier, its pickup booked."""

    manifest_id: str
    pickup_ref: str | None
    shipment_ids: list[str]
    pdf: str


PDF: dict[int | str, dict[str, Any]] = {200: text_answer("application/pdf", "The PDF", binary=True)}


@router.post(
    "/pick-lists",
    summary="Take pick lists for a warehouse: batched by courier, due first then by priority",
    response_model=PickLists,
)
async def create_pick_lists(
    request: Request, body: PickRequest, principal: Principal = require(*FLOOR)
) -> dict[str, Any]:
    service = request.app.state.service
    async with service.pool.acquire() as conn, conn.transaction():
        rows = await store.waiting_to_pick(conn, body.warehouse_code, body.limit, body.shipment_ids)
        waiting = _to_pick(rows)
        now = datetime.now(UTC)
        for row in rows:
            await store.set_status(
                conn, row.shipment_id, ShipmentStatus.PICKED, picked_by=principal.actor, picked_at=now
            )
            await service.emit(conn, updates.updated_event(row, ShipmentStatus.PICKED))
    return {"warehouse_code": body.warehouse_code, "picker": principal.actor, "batches": _batches(waiting)}


@router.get(
    "/pick-lists",
    summary="Preview the pick lists a POST would take now, changing nothing",
    response_model=PickPreview,
)
async def preview_pick_lists(
    request: Request,
    warehouse_code: Annotated[str, Query(min_length=1, max_length=32)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    _: Principal = require(*STAFF),
) -> dict[str, Any]:
    now = utcnow()
    async with request.app.state.service.pool.acquire() as conn:
        waiting = _to_pick(await store.pick_preview(conn, warehouse_code, limit))
    return {
        "warehouse_code": warehouse_code,
        "as_of": now,
        "batches": _batches(waiting),
        "late_shipment_ids": [
            w.shipment_id for w in packing.pick_order(waiting) if packing.is_late(w.dispatch_by, now=now)
        ],
    }


@router.get(
    "/late-to-dispatch",
    summary="Parcels still in the warehouse past their dispatch-by, per warehouse",
    response_model=LateToDispatch,
)
async def late_to_dispatch(
    request: Request,
    warehouse_code: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    _: Principal = require(*STAFF),
) -> dict[str, Any]:
    now = utcnow()
    rows = await store.late_to_dispatch(
        request.app.state.service.pool, now=now, warehouse_code=warehouse_code
    )
    return {"as_of": now, "late": sum(r.late for r in rows), "warehouses": rows}


class Scan(BaseModel):
    barcode: str = Field(min_length=1, max_length=64)


async def _packable(conn: Conn, shipment_id: str) -> Shipment:
    row = await store.lock_shipment(conn, shipment_id)
    if row is None:
        raise Refusal("shipment_id", f"no shipment {shipment_id}", status=404)
    # A parcel its marketplace carries is packed before its label: the label needs our invoice,
    # which is issued on packing (ADR 370).
    packable = (ShipmentStatus.AWB_ASSIGNED, ShipmentStatus.PICKED)
    if row.status not in packable and not (row.marketplace and row.status is ShipmentStatus.CREATED):
        raise Refusal(
            "shipment_id",
            f"shipment is {row.status}; only booked or picked ones are packed",
            status=409,
            error="not packable",
        )
    return row


@router.post(
    "/shipments/{shipment_id}/pack-scans",
    summary="Scan one unit into a shipment's box",
    response_model=Scanned,
    responses=errors(404, 409),
)
async def scan_unit(
    request: Request, shipment_id: ShipmentId, body: Scan, principal: Principal = require(*FLOOR)
) -> Any:
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        row = await _packable(conn, shipment_id)
        sku = await reference.sku_for_barcode(conn, body.barcode)
        expected = row.units
        box = Counter(await store.in_box(conn, shipment_id))
        outcome = packing.check_scan(expected, box, sku)
        await store.record_pack_scan(
            conn,
            shipment_id=shipment_id,
            barcode=body.barcode,
            sku=sku,
            outcome=outcome.value,
            actor=principal.actor,
        )
        if outcome is packing.ScanOutcome.OK:
            box[sku] += 1
    missing = packing.still_missing(expected, box)
    if outcome is not packing.ScanOutcome.OK:
        problem = (
            f"{sku} is not in this shipment: take it out"
            if outcome is packing.ScanOutcome.WRONG_ITEM
            else f"every {sku} of this shipment is already in the box: take this one out"
        )
        # The refusal commits (the mistake is counted) and the box is unchanged.
        raise Refusal("barcode", problem, status=409, error=outcome.value)
    return {"shipment_id": shipment_id, "sku": sku, "outcome": outcome.value, "missing": missing}


class PackRequest(BaseModel):
    weight_grams: int = Field(gt=0, le=100_000, description="The packed box on the scale.")


@router.post(
    "/shipments/{shipment_id}/pack",
    summary="Close the box: every unit scanned, weight captured",
    response_model=Packed,
    responses=errors(404, 409),
)
async def pack(
    request: Request, shipment_id: ShipmentId, body: PackRequest, principal: Principal = require(*FLOOR)
) -> dict[str, Any]:
    service = request.app.state.service
    async with service.pool.acquire() as conn, conn.transaction():
        row = await _packable(conn, shipment_id)
        missing = packing.still_missing(row.units, Counter(await store.in_box(conn, shipment_id)))
        if missing:
            raise Refusal.of(
                ((f"lines.{sku}", f"{qty} unit(s) not scanned yet") for sku, qty in missing.items()),
                status=409,
                error="box incomplete",
            )
        await store.set_status(
            conn,
            shipment_id,
            ShipmentStatus.PACKED,
            package_grams=body.weight_grams,
            packed_by=principal.actor,
            packed_at=datetime.now(UTC),
        )
        await service.emit(conn, updates.updated_event(row, ShipmentStatus.PACKED))
    return {"shipment_id": shipment_id, "status": "PACKED", "weight_grams": body.weight_grams}


@router.get(
    "/pack-stats",
    summary="Packing mistakes caught at the pack station",
    dependencies=[require(*STAFF)],
    response_model=PackStats,
)
async def pack_stats(
    request: Request, warehouse_code: Annotated[str | None, Query(min_length=1, max_length=32)] = None
) -> records.PackStats:
    return await store.pack_stats(request.app.state.service.pool, warehouse_code)


def _party(consignee: Consignee) -> documents.Party:
    address = consignee.address
    street = ", ".join(p for p in (address.line1, address.line2, address.landmark) if p)
    return documents.Party(
        name=consignee.name,
        lines=(street, f"{address.city}, {address.state}"),
        pincode=address.pincode,
        phone=consignee.phone,
    )


def _destination(row: Shipment) -> str:
    assert row.consignee is not None  # a manifested parcel was booked to its consignee
    address = row.consignee.address
    return f"{address.city} {address.pincode}"


def _warehouse(origin: dict[str, Any] | None, code: str) -> documents.Party:
    if origin is None:
        return documents.Party(name=code, lines=(), pincode="", phone="")
    return documents.Party(
        name=origin["name"],
        lines=(origin["line1"], f"{origin['city']}, {origin['state']}"),
        pincode=origin["pincode"],
        phone=origin["phone"],
    )


@router.get(
    "/shipments/{shipment_id}/label.pdf",
    summary="The 4x6 inch label",
    dependencies=[require(*FLOOR)],
    response_class=Response,
    responses={**PDF, **errors(404, 409)},
)
async def label(request: Request, shipment_id: ShipmentId) -> Response:
    pool = request.app.state.service.pool
    row = await store.find_shipment(pool, shipment_id)
    if row is None:
        raise Refusal("shipment_id", f"no shipment {shipment_id}", status=404)
    if not row.awb or not row.consignee:
        raise Refusal("shipment_id", "no AWB yet: the shipment is not booked", status=409, error="not booked")
    async with pool.acquire() as conn:
        origin = await reference.pickup_location(conn, row.warehouse_code)
    pdf = documents.label_pdf(_label(row, origin))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename={shipment_id}.pdf"},
    )


@router.get(
    "/labels.pdf",
    summary="Several shipments' 4x6 inch labels in one PDF, a page each, in the order asked",
    dependencies=[require(*FLOOR)],
    response_class=Response,
    responses={**PDF, **errors(404, 409)},
)
async def labels(
    request: Request,
    shipment_id: Annotated[list[str], Query(min_length=1, max_length=200, description="Repeat per parcel.")],
) -> Response:
    pool = request.app.state.service.pool
    asked = list(dict.fromkeys(shipment_id))
    rows: list[Shipment] = []
    problems: list[tuple[str, str]] = []
    status = 409
    for sid in asked:
        row = await store.find_shipment(pool, sid)
        if row is None:
            problems.append(("shipment_id", f"no shipment {sid}"))
            status = 404
        elif not row.awb or not row.consignee:
            problems.append(("shipment_id", f"{sid} has no AWB yet: it is not booked"))
        else:
            rows.append(row)
    if problems:
        # One missing label would be a parcel without one on the floor: nothing is printed.
        raise Refusal.of(problems, status=status, error="not labelled")
    async with pool.acquire() as conn:
        origins = {
            code: await reference.pickup_location(conn, code) for code in {r.warehouse_code for r in rows}
        }
    pdf = documents.labels_pdf(
        [_label(r, origins[r.warehouse_code]) for r in rows], title=f"{len(rows)} labels"
    )
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": "inline; filename=labels.pdf"}
    )


def _label(row: Shipment, origin: dict[str, Any] | None) -> documents.Label:
    assert row.consignee is not None  # a booked parcel has its consignee
    courier, awb = row.booking()
    return documents.Label(
        courier=courier,
        awb=awb,
        routing_code=row.routing_code,
        order_id=row.order_id,
        shipment_id=row.shipment_id,
        ship_to=_party(row.consignee),
        ship_from=_warehouse(origin, row.warehouse_code),
        cod_amount_paise=row.cod_amount_paise,
        value_paise=row.value_paise,
        weight_grams=row.package_grams or row.chargeable_grams or 0,
        items=tuple(sorted(row.units.items())),
        reverse=row.return_id is not None,
    )


class ManifestRequest(BaseModel):
    warehouse_code: str = Field(min_length=1, max_length=32)
    courier: str = Field(min_length=1, max_length=32)
    pickup_date: date


@router.get(
    "/manifests/{manifest_id}.pdf",
    summary="The manifest to hand over",
    dependencies=[require(*FLOOR)],
    response_class=Response,
    responses={**PDF, **errors(404)},
)
async def manifest_pdf(
    request: Request, manifest_id: Annotated[str, Path(min_length=1, max_length=100)]
) -> Response:
    pool = request.app.state.service.pool
    head, rows = await store.get_manifest(pool, manifest_id)
    if head is None:
        raise Refusal("manifest_id", f"no manifest {manifest_id}", status=404)
    async with pool.acquire() as conn:
        origin = await reference.pickup_location(conn, head.warehouse_code)
    pdf = documents.manifest_pdf(
        documents.Manifest(
            manifest_id=manifest_id,
            courier=head.courier,
            warehouse=f"{head.warehouse_code} {origin['name'] if origin else ''}".strip(),
            pickup_date=head.pickup_date,
            created_at=head.created_at,
            rows=tuple(
                documents.ManifestRow(
                    awb=r.booking()[1],
                    order_id=r.order_id,
                    destination=_destination(r),
                    cod_amount_paise=r.cod_amount_paise,
                    weight_grams=r.package_grams or r.chargeable_grams or 0,
                    units=sum(r.units.values()),
                )
                for r in rows
            ),
        )
    )
    return Response(pdf, media_type="application/pdf")


def pickup_router(adapters: dict[str, CourierAdapter]) -> APIRouter:
    """The manifest route, which books the courier's pickup, so it needs the courier accounts."""
    router = APIRouter(tags=["warehouse"])

    @router.post(
        "/manifests",
        summary="Hand a courier every packed parcel of a warehouse",
        status_code=201,
        response_model=Manifest,
        responses={
            **errors(409, 502),
            201: created(
                "The manifest",
                GetManifest=follow(
                    "GET", "/manifests/{manifest_id}.pdf", manifest_id="$response.body#/manifest_id"
                ),
            ),
        },
    )
    async def create_manifest(
        request: Request, body: ManifestRequest, principal: Principal = require(*FLOOR)
    ) -> dict[str, Any]:
        service = request.app.state.service
        manifest_id = f"MAN-{body.warehouse_code}-{body.courier.upper()}-{uuid.uuid4().hex[:8].upper()}"
        async with service.pool.acquire() as conn, conn.transaction():
            rows = await store.manifestable(conn, body.warehouse_code, body.courier)
            if not rows:
                raise Refusal(
                    "courier",
                    f"no packed {body.courier} parcels at {body.warehouse_code} waiting for a manifest",
                    status=409,
                    error="nothing to manifest",
                )
            handover = [Handover(awb=r.booking()[1], courier_ref=r.courier_ref) for r in rows]
            adapter = adapters.get(body.courier)
            try:
                if adapter is None:
                    raise CourierError(f"no account with courier {body.courier}")
                pickup_ref = await adapter.request_pickup(
                    warehouse_code=body.warehouse_code, pickup_date=body.pickup_date, parcels=handover
                )
            except CourierError as exc:
                # Nothing is manifested until the courier agreed to come: the operator can try again.
                raise Refusal(
                    "courier", f"pickup not booked: {exc}", status=502, error="pickup refused"
                ) from None
            await store.insert_manifest(
                conn,
                manifest_id=manifest_id,
                courier=body.courier,
                warehouse_code=body.warehouse_code,
                pickup_date=body.pickup_date,
                actor=principal.actor,
                pickup_ref=pickup_ref,
            )
            for row in rows:
                await store.set_status(
                    conn, row.shipment_id, ShipmentStatus.MANIFESTED, manifest_id=manifest_id
                )
                await service.emit(conn, updates.updated_event(row, ShipmentStatus.MANIFESTED))
        return {
            "manifest_id": manifest_id,
            "pickup_ref": pickup_ref,
            "shipment_ids": [r.shipment_id for r in rows],
            "pdf": f"/manifests/{manifest_id}.pdf",
        }

    return router
