"""HTTP routes of the orders service: the order queue, one order with its timeline, staff intake,
operator actions and the risk blocklist. Thin: parse, open a transaction, let lifecycle decide.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import ValidationError

from chassis.auth import STAFF, Principal, Role, require
from chassis.http import also_check, created, errors, follow
from chassis.pages import Cursor, Limit, Page, next_cursor, position
from chassis.refusal import Refusal
from contracts import Channel, ChannelOrder, FieldProblem, OrderStatus, PaymentMethod
from services.orders import actions, domain, intake, lifecycle, payments, records, store
from services.orders.intake import Placed
from services.orders.lifecycle import Step
from services.orders.schemas import (
    CONFLICT,
    ERRORS,
    INVALID,
    NOT_FOUND,
    ActionResult,
    BlockEntry,
    BlockRequest,
    CancelRequest,
    CodDecision,
    ContactCorrection,
    Created,
    HoldRequest,
    OrderDetail,
    OrderPage,
    Resubmission,
    StaffOrder,
)
from services.orders.settings import OrdersSettings

router = APIRouter(tags=["orders"])

OrderId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$", examples=["ORD-019AC2E1F3A0-5E3B7A21"])
]
SearchText = Annotated[str, Query(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]
OPERATOR = require(Role.OPS)
ACTION_ERRORS = {**ERRORS, **NOT_FOUND, **CONFLICT, **INVALID}


def _settings(request: Request) -> OrdersSettings:
    settings = request.app.state.service.settings
    assert isinstance(settings, OrdersSettings)
    return settings


@asynccontextmanager
async def _step(request: Request, principal: Principal, cause: str) -> AsyncIterator[Step]:
    """One transaction for an operator's action; a refusal rolls it back and answers 4xx."""
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        yield Step.by(conn, _settings(request), principal, cause)


def _as_channel_order(body: dict[str, Any]) -> ChannelOrder:
    try:
        return ChannelOrder.model_validate(body)
    except ValidationError as exc:
        raise Refusal.of(domain.all_problems(exc, body)) from None


def _utc(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise Refusal(field, "must include a timezone offset, e.g. 2026-11-26T00:00:00+05:30")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise Refusal(field, "out of range") from None


# queries -------------------------------------------------------------------------------------


@router.get(
    "/orders",
    summary="The order queue, newest first: filter, search, keyset pagination",
    description="Filter by status, channel, payment method, warehouse and when it was received; `q` "
    "finds an order by its id, the channel's order id, the customer's phone (any Indian format) or an AWB.",
    response_model=OrderPage,
    responses={**ERRORS, **INVALID},
    dependencies=[require(*STAFF)],
)
async def list_orders(
    request: Request,
    status: OrderStatus | None = None,
    channel: Channel | None = None,
    payment_method: PaymentMethod | None = None,
    warehouse: Annotated[
        str | None, Query(max_length=32, pattern=r"^[A-Za-z0-9_-]+$", examples=["BOM1"])
    ] = None,
    received_from: Annotated[datetime | None, Query(examples=["2026-11-26T00:00:00+05:30"])] = None,
    received_to: Annotated[datetime | None, Query(examples=["2026-11-27T00:00:00+05:30"])] = None,
    q: Annotated[SearchText | None, Query(examples=["9812345678"])] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    search = q.strip() if q else None
    async with request.app.state.service.pool.acquire() as conn:
        rows = await store.list_orders(
            conn,
            status=status.value if status else None,
            channel=channel.value if channel else None,
            payment_method=payment_method.value if payment_method else None,
            warehouse=warehouse,
            received_from=_utc(received_from, "received_from"),
            received_to=_utc(received_to, "received_to"),
            search=search or None,
            phone=domain.normalise_phone(search) if search else None,
            before=position(cursor),
            limit=limit,
        )
    return {"items": rows, "next_cursor": next_cursor(rows, limit, lambda r: (r.created_at, r.order_id))}


@router.get(
    "/orders/{order_id}",
    summary="One order with its full timeline",
    description="Every status change with its reason, the event or action that caused it, who and when.",
    response_model=OrderDetail,
    responses={**ERRORS, **NOT_FOUND},
    dependencies=[require(*STAFF)],
)
async def get_order(request: Request, order_id: OrderId) -> records.OrderDetail:
    async with request.app.state.service.pool.acquire() as conn:
        order = await store.get_order(conn, order_id)
    if order is None:
        raise Refusal("order_id", f"no order {order_id}", status=404)
    return order


# intake --------------------------------------------------------------------------------------


@router.post(
    "/orders",
    status_code=201,
    summary="Enter an order by hand (phone, WhatsApp, store) or from an integration",
    description="The same validation as channel orders; every problem is answered at once, naming its field, "
    "and nothing is stored. The same channel and channel_order_id twice answers 409 with the existing order. "
    "A `channel` key enters orders for its own channel only (the key's name, or its name up to the first "
    "`-`); no one enters an `exchange` order or a payment already taken here: the payment is `pending` "
    "until the gateway's signed webhook records it (ADR 0067).",
    response_model=Created,
    responses={
        201: created(
            "The order, placed",
            GetOrder=follow("GET", "/orders/{order_id}", order_id="$response.body#/order_id"),
            HoldOrder=follow("POST", "/orders/{order_id}/hold", order_id="$response.body#/order_id"),
            CancelOrder=follow("POST", "/orders/{order_id}/cancel", order_id="$response.body#/order_id"),
            CorrectContact=follow("PATCH", "/orders/{order_id}/contact", order_id="$response.body#/order_id"),
        ),
        **ERRORS,
        409: {"description": "This channel order exists already"},
        **INVALID,
    },
)
@also_check(lambda body: [(p.field, p.problem) for p in domain.raw_problems(body)])
async def create_order(
    request: Request, body: StaffOrder, principal: Principal = require(Role.OPS, Role.CHANNEL)
) -> dict[str, Any]:
    if principal.role is Role.CHANNEL and domain.bound_channel(principal.name) is not body.channel:
        bound = domain.bound_channel(principal.name)
        raise Refusal(
            "channel",
            f"key {principal.name} may enter {bound} orders only"
            if bound
            else f"key {principal.name} names no channel, so it may enter no orders (ADR 0067)",
            status=403,
        )
    if body.rehearsal and principal.role is not Role.OPS:
        raise Refusal("rehearsal", "only an operator (ops) places a rehearsal order", status=403)
    problems = domain.http_problems(channel=body.channel, payment_status=body.payment.status)
    if body.rehearsal:
        problems += domain.rehearsal_problems(
            channel_order_id=body.channel_order_id,
            method=body.payment.method,
            phone=body.customer.phone,
            operator_phones=_settings(request).operator_phones,
        )
    if problems:
        raise Refusal.of(problems)
    data = body.model_dump(mode="json", exclude={"rehearsal"})
    made_up = domain.new_order_id().replace("ORD-", domain.REHEARSAL_PREFIX if body.rehearsal else "STAFF-")
    data["channel_order_id"] = data["channel_order_id"] or made_up
    data["placed_at"] = data["placed_at"] or datetime.now(UTC).isoformat()
    order = _as_channel_order(data)
    async with _step(request, principal, "POST /orders") as step:
        outcome = await intake.place(step, order, entered_by=step.actor, rehearsal=body.rehearsal)
    if not isinstance(outcome, Placed):
        raise Refusal.of(outcome)
    if not outcome.created:
        raise Refusal(
            "channel_order_id",
            f"{order.channel}:{order.channel_order_id} is already order {outcome.order_id}",
            status=409,
            error="duplicate",
        )
    return {"order_id": outcome.order_id, "status": OrderStatus.PLACED.value}


@router.post(
    "/orders/{order_id}/resubmit",
    summary="Correct a refused order and submit it again",
    description="Only a REJECTED order; the corrected content goes through intake validation again.",
    response_model=ActionResult,
    responses=ACTION_ERRORS,
)
async def resubmit(
    request: Request, order_id: OrderId, body: Resubmission, principal: Principal = OPERATOR
) -> dict[str, Any]:
    async with _step(request, principal, "POST /orders/{order_id}/resubmit") as step:
        row = await lifecycle.locked(step, order_id)
        if row.status != OrderStatus.REJECTED:
            raise Refusal(
                "status", f"only a REJECTED order can be resubmitted; this one is {row.status}", status=409
            )
        data = body.model_dump(mode="json")
        known = row.channel in Channel._value2member_map_
        data["channel"] = row.channel if known else data["channel"]
        data["channel_order_id"] = row.channel_order_id if known else data["channel_order_id"]
        data["placed_at"] = data["placed_at"] or datetime.now(UTC).isoformat()
        if not known and not (data["channel"] and data["channel_order_id"]):
            raise Refusal.of(
                [
                    FieldProblem(field=f, problem="required: the refused order did not say")
                    for f in ("channel", "channel_order_id")
                    if not data[f]
                ]
            )
        if data["channel"] == Channel.EXCHANGE and not known:
            raise Refusal("channel", "exchange orders are made by returns, never over HTTP")
        received = (row.received or {}).get("payment")
        reported = received if isinstance(received, dict) else None
        if problems := domain.resubmitted_payment_problems(claimed=data["payment"], received=reported):
            raise Refusal.of(problems)
        if not known and await store.order_id_of(step.conn, data["channel"], data["channel_order_id"]):
            raise Refusal(
                "channel_order_id",
                f"{data['channel']}:{data['channel_order_id']} is another order",
                status=409,
            )
        outcome = await intake.place(step, _as_channel_order(data), entered_by=step.actor, replacing=row)
        if not isinstance(outcome, Placed):
            raise Refusal.of(outcome)
    return {"order_id": order_id, "status": OrderStatus.PLACED.value, "actor": step.actor}


# operator actions ------------------------------------------------------------------------------


async def _result(step: Step, order_id: str) -> dict[str, Any]:
    row = await lifecycle.locked(step, order_id)
    return {"order_id": order_id, "status": row.status, "actor": step.actor}


@router.post(
    "/orders/{order_id}/cancel",
    summary="Cancel an order before dispatch (releases the stock, cancels the shipment)",
    response_model=ActionResult,
    responses=ACTION_ERRORS,
)
async def cancel(
    request: Request,
    order_id: OrderId,
    body: Annotated[CancelRequest, Body()] = CancelRequest(),
    principal: Principal = OPERATOR,
) -> dict[str, Any]:
    async with _step(request, principal, "POST /orders/{order_id}/cancel") as step:
        await actions.cancel(
            step, await lifecycle.locked(step, order_id), code=body.reason_code, note_text=body.note
        )
        return await _result(step, order_id)


@router.post(
    "/orders/{order_id}/hold",
    summary="Hold an order before confirmation, for a person to look at",
    response_model=ActionResult,
    responses=ACTION_ERRORS,
)
async def hold(
    request: Request, order_id: OrderId, body: HoldRequest, principal: Principal = OPERATOR
) -> dict[str, Any]:
    async with _step(request, principal, "POST /orders/{order_id}/hold") as step:
        await actions.hold(step, await lifecycle.locked(step, order_id), body.reason)
        return await _result(step, order_id)


@router.post(
    "/orders/{order_id}/release",
    summary="Release a held or backordered order to where it would be without the hold",
    response_model=ActionResult,
    responses=ACTION_ERRORS,
)
async def release(request: Request, order_id: OrderId, principal: Principal = OPERATOR) -> dict[str, Any]:
    async with _step(request, principal, "POST /orders/{order_id}/release") as step:
        await actions.release(step, await lifecycle.locked(step, order_id))
        return await _result(step, order_id)


@router.post(
    "/orders/{order_id}/cod/confirm",
    summary="Confirm a COD order by hand (the customer confirmed on a call)",
    response_model=ActionResult,
    responses=ACTION_ERRORS,
)
async def confirm_cod(
    request: Request,
    order_id: OrderId,
    body: Annotated[CodDecision, Body()] = CodDecision(),
    principal: Principal = OPERATOR,
) -> dict[str, Any]:
    async with _step(request, principal, "POST /orders/{order_id}/cod/confirm") as step:
        await payments.cod_confirmed(step, await lifecycle.locked(step, order_id), by_hand=True)
        return await _result(step, order_id)


@router.post(
    "/orders/{order_id}/cod/decline",
    summary="Decline a COD order by hand (the customer said no on a call); cancels it",
    response_model=ActionResult,
    responses=ACTION_ERRORS,
)
async def decline_cod(
    request: Request,
    order_id: OrderId,
    body: Annotated[CodDecision, Body()] = CodDecision(),
    principal: Principal = OPERATOR,
) -> dict[str, Any]:
    async with _step(request, principal, "POST /orders/{order_id}/cod/decline") as step:
        await payments.cod_declined(step, await lifecycle.locked(step, order_id), by_hand=True)
        return await _result(step, order_id)


@router.patch(
    "/orders/{order_id}/contact",
    summary="Correct the phone and/or address until a parcel is handed to the courier",
    description="Re-validated like intake (pincode in state, Indian mobile); the risk rules run again. "
    "Once the order is CONFIRMED or PACKED shipping is told (orders.contact_corrected.v1) and updates "
    "or re-books the courier; from PARTIALLY_SHIPPED on the answer is 409 naming the status.",
    response_model=ActionResult,
    responses=ACTION_ERRORS,
)
async def correct_contact(
    request: Request, order_id: OrderId, body: ContactCorrection, principal: Principal = OPERATOR
) -> dict[str, Any]:
    if body.phone is None and body.shipping_address is None:
        raise Refusal("body", "send a phone, a shipping_address, or both")
    async with _step(request, principal, "PATCH /orders/{order_id}/contact") as step:
        row = await lifecycle.locked(step, order_id)
        if row.rehearsal and body.phone is not None:
            # A rehearsal's messages never go to a customer, corrected or not (ADR 0360).
            operators = _settings(request).operator_phones
            if problems := domain.rehearsal_problems(
                channel_order_id=None, method=PaymentMethod.COD, phone=body.phone, operator_phones=operators
            ):
                raise Refusal.of([p.model_copy(update={"field": "phone"}) for p in problems])
        await actions.correct_contact(step, row, phone=body.phone, address=body.shipping_address)
        return await _result(step, order_id)


# risk blocklist --------------------------------------------------------------------------------

Kind = Literal["phone", "pincode"]
BlockValue = Annotated[
    str, Path(min_length=1, max_length=32, pattern=r"^[0-9+ ]+$", examples=["+919812345678"])
]


def _block_value(kind: str, value: str) -> str:
    if kind == "pincode":
        if not (len(value) == 6 and value.isdigit()):
            raise Refusal("value", f"{value!r} is not a six-digit pincode")
        return value
    phone = domain.normalise_phone(value)
    if phone is None:
        raise Refusal("value", f"{value!r} is not a valid Indian mobile number")
    return phone


@router.get(
    "/risk/blocklist",
    tags=["risk"],
    summary="Blocked phones and pincodes (their orders wait for review), newest first, a page at a time",
    response_model=Page[BlockEntry],
    responses=ERRORS,
    dependencies=[require(*STAFF)],
)
async def get_blocklist(request: Request, cursor: Cursor = None, limit: Limit = 100) -> dict[str, Any]:
    async with request.app.state.service.pool.acquire() as conn:
        rows = await store.blocklist_page(conn, before=position(cursor), limit=limit)
    return {
        "items": rows,
        "next_cursor": next_cursor(rows, limit, lambda r: (r.added_at, f"{r.kind}:{r.value}")),
    }


@router.put(
    "/risk/blocklist/{kind}/{value}",
    tags=["risk"],
    summary="Block a phone or pincode: its new orders wait for review",
    response_model=BlockEntry,
    responses={**ERRORS, **INVALID},
)
async def block(
    request: Request, kind: Kind, value: BlockValue, body: BlockRequest, principal: Principal = OPERATOR
) -> records.BlockEntry:
    normal = _block_value(kind, value)
    async with request.app.state.service.pool.acquire() as conn:
        await store.block(conn, kind=kind, value=normal, reason=body.reason, added_by=principal.actor)
        entry = await store.blocked(conn, kind=kind, value=normal)
    assert entry is not None  # just written
    return entry


@router.delete(
    "/risk/blocklist/{kind}/{value}",
    tags=["risk"],
    status_code=204,
    summary="Unblock a phone or pincode",
    responses={**ERRORS, **errors(404, descriptions={404: "Not on the blocklist"}), **INVALID},
)
async def unblock(request: Request, kind: Kind, value: BlockValue, principal: Principal = OPERATOR) -> None:
    normal = _block_value(kind, value)
    async with request.app.state.service.pool.acquire() as conn:
        if not await store.unblock(conn, kind=kind, value=normal):
            raise Refusal("value", f"{normal} is not blocked", status=404)
