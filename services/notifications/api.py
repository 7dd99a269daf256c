"""HTTP routes of the notifications service: the audit of what was sent about an order."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request

from chassis.auth import STAFF, require
from chassis.logging import mask_phone
from services.notifications import store

router = APIRouter(prefix="/messages", tags=["messages"])


@router.get(
    "",
    summary="Every message about one order, oldest first (recipients masked)",
    dependencies=[require(*STAFF)],
)
async def list_messages(request: Request, order_id: str) -> dict[str, Any]:
    rows = await store.list_for_order(request.app.state.service.pool, order_id)
    items = []
    for row in rows:
        item = dict(row)
        item["recipient"] = mask_phone(item["recipient"])
        item["parameters"] = json.loads(item["parameters"])
        items.append(item)
    return {"items": items}
