"""HTTP routes of couriers' pickup capacity: what each courier confirmed it will collect from a
warehouse on a day (peak days), and the report of parcels booked for a day's pickups against it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from chassis.auth import STAFF, Principal, Role, require
from chassis.clock import india_date, utcnow
from chassis.http import errors
from chassis.refusal import Refusal
from services.shipping import store
from services.shipping.records import PickupLoad

router = APIRouter(tags=["pickup capacity"])


class CapacityIn(BaseModel):
    """A courier's confirmation: it collects up to `parcels` from this warehouse on this IST day."""

    courier: str = Field(min_length=1, max_length=32, examples=["xpressbees"])
    warehouse_code: str = Field(min_length=1, max_length=32, examples=["GGN1"])
    pickup_date: date
    parcels: int = Field(ge=0, le=1_000_000, description="0 closes the courier's pickup that day.")
    confirmation_ref: str | None = Field(
        default=None,
        max_length=200,
        description="The courier's confirmation (mail, ticket or call reference).",
    )


class Pickups(BaseModel):
    """One courier at one warehouse on the day: parcels booked for pickup against its capacity."""

    courier: str
    warehouse_code: str
    booked: int
    capacity: int | None = Field(description="None: no capacity confirmed, bookings are not limited.")
    left: int | None
    over: bool = Field(description="More booked than confirmed (capacity lowered after bookings).")
    confirmation_ref: str | None


class PickupReport(BaseModel):
    """The day's booked pickups against confirmed capacity, per courier × warehouse."""

    pickup_date: date
    as_of: datetime
    pickups: list[Pickups]


def _report_row(row: PickupLoad) -> dict[str, Any]:
    capacity = row.capacity
    return {
        "courier": row.courier,
        "warehouse_code": row.warehouse_code,
        "booked": row.booked,
        "capacity": capacity,
        "left": None if capacity is None else max(0, capacity - row.booked),
        "over": capacity is not None and row.booked > capacity,
        "confirmation_ref": row.confirmation_ref,
    }


@router.put(
    "/pickup-capacity",
    summary="Set a courier's confirmed pickup capacity at a warehouse on a day",
    response_model=Pickups,
    responses=errors(422),
)
async def set_capacity(request: Request, body: CapacityIn, principal: Principal = require(Role.OPS)) -> Any:
    couriers = request.app.state.service.settings.courier_names
    if body.courier not in couriers:
        raise Refusal(
            "courier", f"{body.courier} is not one of this seller's couriers ({', '.join(couriers)})"
        )
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        await store.set_pickup_capacity(
            conn,
            courier=body.courier,
            warehouse_code=body.warehouse_code,
            pickup_date=body.pickup_date,
            parcels=body.parcels,
            confirmation_ref=body.confirmation_ref,
            actor=principal.actor,
        )
        rows = await store.pickups_on(conn, pickup_date=body.pickup_date, warehouse_code=body.warehouse_code)
    [row] = [r for r in rows if r.courier == body.courier]
    return _report_row(row)


@router.get(
    "/pickup-capacity",
    summary="Parcels booked for a day's pickups against each courier's capacity (default: tomorrow, IST)",
    response_model=PickupReport,
    dependencies=[require(*STAFF)],
)
async def pickup_report(
    request: Request,
    pickup_date: Annotated[date | None, Query(description="IST day; tomorrow when left out.")] = None,
    warehouse_code: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
) -> dict[str, Any]:
    now = utcnow()
    day = pickup_date or india_date(now) + timedelta(days=1)
    rows = await store.pickups_on(
        request.app.state.service.pool, pickup_date=day, warehouse_code=warehouse_code
    )
    return {"pickup_date": day, "as_of": now, "pickups": [_report_row(r) for r in rows]}
