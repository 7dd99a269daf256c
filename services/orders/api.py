"""HTTP routes of the orders service: the order queue and one order with its timeline."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from chassis.auth import STAFF, require
from chassis.http import Refused
from contracts import Channel, OrderStatus
from services.orders import store

router = APIRouter(prefix="/orders", tags=["orders"])


def _cursor(created_at: datetime, order_id: str) -> str:
    return f"{created_at.isoformat()}|{order_id}"


def _parse_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, order_id = cursor.split("|", 1)
        return datetime.fromisoformat(at), order_id
    except ValueError as exc:
        raise Refused(("cursor", "not a cursor from a previous page")) from exc


@router.get(
    "", summary="The order queue, newest first, with keyset pagination", dependencies=[require(*STAFF)]
)
async def list_orders(
    request: Request,
    status: OrderStatus | None = None,
    channel: Channel | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    rows = await store.list_orders(
        request.app.state.service.pool,
        status=status.value if status else None,
        channel=channel.value if channel else None,
        before=_parse_cursor(cursor) if cursor else None,
        limit=limit,
    )
    items = [dict(r) for r in rows]
    next_cursor = _cursor(rows[-1]["created_at"], rows[-1]["order_id"]) if len(rows) == limit else None
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{order_id}", summary="One order with its full timeline", dependencies=[require(*STAFF)])
async def get_order(request: Request, order_id: str) -> dict[str, Any]:
    order, timeline = await store.get_order(request.app.state.service.pool, order_id)
    if order is None:
        raise HTTPException(404, detail=f"no order {order_id}")
    body = dict(order)
    for key in (
        "customer",
        "shipping_address",
        "lines",
        "payment",
        "problems",
        "received",
        "allocations",
    ):
        if body.get(key) is not None:
            body[key] = json.loads(body[key])
    body["timeline"] = [dict(t) for t in timeline]
    return body
