"""HTTP routes of the shipping service: an order's shipments and one shipment."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from fastapi import APIRouter, HTTPException, Request

from chassis.auth import STAFF, require
from services.shipping import store

router = APIRouter(prefix="/shipments", tags=["shipments"])


def _body(row: asyncpg.Record) -> dict[str, Any]:
    body = dict(row)
    body["lines"] = json.loads(body["lines"])
    return body


@router.get("", summary="The shipments of one order", dependencies=[require(*STAFF)])
async def list_shipments(request: Request, order_id: str) -> dict[str, Any]:
    rows = await store.list_for_order(request.app.state.service.pool, order_id)
    return {"items": [_body(r) for r in rows]}


@router.get("/{shipment_id}", summary="One shipment with its courier and AWB", dependencies=[require(*STAFF)])
async def get_shipment(request: Request, shipment_id: str) -> dict[str, Any]:
    row = await store.get_shipment(request.app.state.service.pool, shipment_id)
    if row is None:
        raise HTTPException(404, detail=f"no shipment {shipment_id}")
    return _body(row)
