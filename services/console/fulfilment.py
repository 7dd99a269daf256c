"""The fulfilment screen (ADR 380): a warehouse's pick list previewed and taken through shipping as
the person who clicked, the printable list, labels and manifests. Shipping makes every PDF; the
console passes the owner's bytes on to the browser."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from services.console import store
from services.console.api import _back, _owners, _page
from services.console.domain import floor
from services.console.domain.decisions import MAX_BULK
from services.console.owners import Operator, Outcome
from services.console.sessions import form_from_operator, signed_in

router = APIRouter(include_in_schema=False)


def _problems(problems: floor.Problems) -> str:
    return "; ".join(f"{f}: {p}" for f, p in problems)


@router.get("/fulfilment")
async def fulfilment_page(
    request: Request, warehouse: str = "", operator: Operator = signed_in()
) -> HTMLResponse:
    """One warehouse's floor: shipping's pick-list preview (late parcels marked) to take, the parcels
    picked and waiting to be packed, and the packed ones waiting for a manifest, per courier."""
    pool = request.app.state.service.pool
    warehouse = warehouse.strip()
    context: dict[str, object] = {"warehouse": warehouse, "warehouses": await store.stock_warehouses(pool)}
    if warehouse:
        asked = f"/pick-lists?{urlencode({'warehouse_code': warehouse, 'limit': floor.MAX_PICK})}"
        answer = await _owners(request).call("shipping", "GET", asked, operator=operator)
        if answer.ok:
            batches = answer.body["batches"]
            ids = [sid for b in batches for sid in b["shipment_ids"]]
            known = {p.shipment_id: p for p in await store.floor_parcels(pool, warehouse, shipment_ids=ids)}
            context["to_pick"] = floor.preview(batches, answer.body["late_shipment_ids"], known)
            context["late"] = len(answer.body["late_shipment_ids"])
        else:
            context["preview_error"] = answer.message
        context["picked"] = await store.floor_parcels(pool, warehouse, statuses=["PICKED"])
        context["packed"] = floor.by_courier(await store.floor_parcels(pool, warehouse, statuses=["PACKED"]))
    context["manifests"] = request.query_params.getlist("manifest")
    return _page(request, "fulfilment.html", operator, **context)


@router.post("/fulfilment/pick")
async def take_pick_list(
    request: Request, warehouse: str = Form(""), operator: Operator = form_from_operator()
) -> RedirectResponse:
    """Take the ticked parcels of the preview: shipping moves those still waiting to PICKED and
    records the operator as their picker (it refuses a viewer)."""
    form = await request.form()
    ids, problems = floor.ticked_ids(form.getlist("shipment_id"))
    if problems:
        return _back("/fulfilment", error=_problems(problems), warehouse=warehouse)
    outcome = await _owners(request).call(
        "shipping",
        "POST",
        "/pick-lists",
        operator=operator,
        json={"warehouse_code": warehouse, "shipment_ids": ids, "limit": len(ids)},
    )
    if not outcome.ok:
        return _back("/fulfilment", outcome, warehouse=warehouse)
    taken = [sid for b in outcome.body["batches"] for sid in b["shipment_ids"]]
    if not taken:
        return _back(
            "/fulfilment",
            error="none of the ticked parcels waits any more: taken already",
            warehouse=warehouse,
        )
    said = f"{len(taken)} of {len(ids)} parcels picked by {outcome.body['picker']}: print the list"
    query = urlencode(
        [("warehouse", warehouse), ("picker", outcome.body["picker"]), ("ok", said)]
        + [("shipment_id", sid) for sid in taken]
    )
    return RedirectResponse(f"/fulfilment/pick-list?{query}", status_code=303)


@router.get("/fulfilment/pick-list")
async def pick_list(
    request: Request, warehouse: str = "", picker: str = "", operator: Operator = signed_in()
) -> HTMLResponse:
    """A taken pick list to print: per courier, the units to pull and the parcels they go into."""
    ids, _ = floor.ticked_ids(request.query_params.getlist("shipment_id"), limit=floor.MAX_PICK)
    parcels = await store.floor_parcels(request.app.state.service.pool, warehouse, shipment_ids=ids)
    found = {p.shipment_id for p in parcels}
    return _page(
        request,
        "pick_list.html",
        operator,
        warehouse=warehouse,
        picker=picker,
        batches=floor.by_courier(parcels, ids),
        unseen=[sid for sid in ids if sid not in found],
        printed_at=request.app.state.clock(),
    )


def _pdf(outcome: Outcome, content: bytes, media: str, name: str) -> Response:
    if not outcome.ok:
        return _back("/fulfilment", outcome)
    return Response(content, media_type=media, headers={"Content-Disposition": f"inline; filename={name}"})


@router.get("/fulfilment/labels.pdf")
async def labels(request: Request, operator: Operator = signed_in()) -> Response:
    """The parcels' labels in one PDF, made by shipping for the operator (a page per parcel)."""
    ids, problems = floor.ticked_ids(request.query_params.getlist("shipment_id"), limit=MAX_BULK * 2)
    if problems:
        return _back("/fulfilment", error=_problems(problems))
    outcome, content, media = await _owners(request).document(
        "shipping", "/labels.pdf", operator=operator, params=[("shipment_id", sid) for sid in ids]
    )
    return _pdf(outcome, content, media, "labels.pdf" if len(ids) > 1 else f"{ids[0]}.pdf")


@router.get("/fulfilment/manifests/{manifest_id}.pdf")
async def manifest_pdf(request: Request, manifest_id: str, operator: Operator = signed_in()) -> Response:
    outcome, content, media = await _owners(request).document(
        "shipping", f"/manifests/{quote(manifest_id, safe='')}.pdf", operator=operator
    )
    return _pdf(outcome, content, media, f"{manifest_id}.pdf")


async def _manifest(request: Request, operator: Operator, warehouse: str, courier: str) -> Outcome:
    """Ask shipping to hand the courier every packed parcel of the warehouse and book its pickup today."""
    day = floor.pickup_day(request.app.state.clock())
    body = {"warehouse_code": warehouse, "courier": courier, "pickup_date": day.isoformat()}
    return await _owners(request).call("shipping", "POST", "/manifests", operator=operator, json=body)


def _manifested(outcomes: list[tuple[str, Outcome]]) -> tuple[str, list[str]]:
    """One sentence for the manifests made and refused, and the ids of those made."""
    made = [o.body["manifest_id"] for _, o in outcomes if o.ok]
    said = [
        f"manifest {o.body['manifest_id']}: {len(o.body['shipment_ids'])} parcel(s) for {who}"
        if o.ok
        else f"{who}: {o.message}"
        for who, o in outcomes
    ]
    return "; ".join(said), made


@router.post("/fulfilment/manifests")
async def create_manifest(
    request: Request,
    warehouse: str = Form(""),
    courier: str = Form(""),
    operator: Operator = form_from_operator(),
) -> RedirectResponse:
    outcome = await _manifest(request, operator, warehouse, courier)
    said, made = _manifested([(courier, outcome)])
    params = [("warehouse", warehouse), ("ok" if outcome.ok else "error", said)]
    query = urlencode(params + [("manifest", m) for m in made])
    return RedirectResponse(f"/fulfilment?{query}", status_code=303)


# --- the orders queue's bulk bar: print labels, create manifest -------------------------------------


def _ticked(form: FormData) -> tuple[list[str], dict[str, str]]:
    """The ticked orders, each once, and the queue's filters to go back to."""
    kept = {k: v for k, v in parse_qsl(str(form.get("back", ""))) if k not in ("ok", "error")}
    return list(dict.fromkeys(str(o) for o in form.getlist("order_id"))), kept


@router.post("/fulfilment/queue/labels")
async def queue_labels(request: Request, operator: Operator = form_from_operator()) -> RedirectResponse:
    """The ticked orders' labels: one PDF of every booked parcel still in a warehouse."""
    form = await request.form()
    order_ids, kept = _ticked(form)
    if not order_ids or len(order_ids) > MAX_BULK:
        return _back("/orders", error=f"order_id: tick between 1 and {MAX_BULK} orders", **kept)
    views = await store.views(request.app.state.service.pool, order_ids)
    ids, problems = floor.labels_for(views, order_ids)
    if not ids:
        return _back("/orders", error=_problems(problems), **kept)
    return RedirectResponse(
        f"/fulfilment/labels.pdf?{urlencode([('shipment_id', sid) for sid in ids])}", status_code=303
    )


@router.post("/fulfilment/queue/manifest")
async def queue_manifest(request: Request, operator: Operator = form_from_operator()) -> RedirectResponse:
    """A manifest for each warehouse × courier the ticked orders' packed parcels wait at."""
    form = await request.form()
    order_ids, kept = _ticked(form)
    if not order_ids or len(order_ids) > MAX_BULK:
        return _back("/orders", error=f"order_id: tick between 1 and {MAX_BULK} orders", **kept)
    views = await store.views(request.app.state.service.pool, order_ids)
    pickups, problems = floor.manifests_for(views, order_ids)
    if not pickups:
        return _back("/orders", error=_problems(problems), **kept)
    outcomes = [
        (f"{courier} at {warehouse}", await _manifest(request, operator, warehouse, courier))
        for warehouse, courier in pickups
    ]
    said, made = _manifested(outcomes)
    if problems:
        said += "; " + _problems(problems)
    status = "ok" if all(o.ok for _, o in outcomes) else "error"
    query = urlencode([("warehouse", pickups[0][0]), (status, said)] + [("manifest", m) for m in made])
    return RedirectResponse(f"/fulfilment?{query}", status_code=303)
