"""HTTP routes of the returns service: request a return (RMA) and look one up."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from chassis.auth import STAFF, Role, require
from chassis.http import Refused
from contracts import OrderStatus, ReturnLine, ReturnRequested, ReturnResolution, ReturnStatus
from contracts._base import utcnow
from services.returns import domain, store

router = APIRouter(prefix="/returns", tags=["returns"])

_ID_ATTEMPTS = 5


class ReturnRequest(BaseModel):
    """What a customer (or an operator for them) asks to send back."""

    order_id: str = Field(min_length=1)
    lines: list[ReturnLine] = Field(min_length=1)
    resolution: ReturnResolution = ReturnResolution.REFUND


def _body(row: asyncpg.Record) -> dict[str, Any]:
    body = dict(row)
    body["lines"] = json.loads(body["lines"])
    return body


@router.post(
    "", status_code=201, summary="Request a return of a delivered order", dependencies=[require(Role.OPS)]
)
async def request_return(request: Request, body: ReturnRequest) -> Any:
    service = request.app.state.service
    async with service.pool.acquire() as conn, conn.transaction():
        order = await store.lock_order_status(conn, body.order_id)
        problems = domain.eligibility_problems(
            order_id=body.order_id,
            order_status=OrderStatus(order["status"]) if order else None,
            delivered_at=order["updated_at"] if order else None,
            now=utcnow(),
            window_days=service.settings.return_window_days,
            lines=body.lines,
            already_requested=await store.skus_in_returns(
                conn, order_id=body.order_id, statuses=domain.OPEN_STATUSES
            ),
        )
        if problems:
            raise Refused(*((p.field, p.problem) for p in problems), error="not eligible for return")
        for _ in range(_ID_ATTEMPTS):
            row = await store.insert_return(
                conn,
                return_id=domain.new_return_id(),
                order_id=body.order_id,
                lines=body.lines,
                resolution=body.resolution,
            )
            if row is not None:
                break
        else:
            raise HTTPException(503, detail="could not allocate a return id; try again")
        await service.emit(
            conn,
            ReturnRequested(
                order_id=body.order_id,
                return_id=row["return_id"],
                status=ReturnStatus.REQUESTED,
                lines=body.lines,
                resolution=body.resolution,
            ),
        )
    return _body(row)


@router.get("/{return_id}", summary="One return with its lines and status", dependencies=[require(*STAFF)])
async def get_return(request: Request, return_id: str) -> dict[str, Any]:
    row = await store.get_return(request.app.state.service.pool, return_id)
    if row is None:
        raise HTTPException(404, detail=f"no return {return_id}")
    return _body(row)
