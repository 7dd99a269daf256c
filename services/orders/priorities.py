"""Priority rules as data: the operator's weights for speed, prepaid vs COD, order value, channel and
destination pincode, edited over HTTP, with a preview of the dispatch queue they would produce."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from chassis.auth import STAFF, Principal, Role, require
from chassis.http import errors
from contracts import Channel, DeliverySpeed
from services.orders import store
from services.orders.domain.priority import (
    PincodeRange,
    ValueBand,
    Weights,
    queue_order,
    scored,
    weights_from,
)

router = APIRouter(tags=["priority rules"])
Pincode = Annotated[str, Field(pattern=r"^[1-9][0-9]{5}$", examples=["400001"])]
EXAMPLE: dict[str, Any] = {
    "speed": {"same_day": 300, "express": 100, "standard": 0},
    "prepaid": 20,
    "cod": -5,
    "value_bands": [{"from_paise": 200000, "weight": 5}, {"from_paise": 1000000, "weight": 15}],
    "channels": {"website": 8, "amazon": 4},
    "pincodes": [{"first": "400001", "last": "400104", "weight": 3, "label": "Mumbai"}],
}


class ValueBandIn(BaseModel):
    from_paise: int = Field(ge=0)
    weight: int = Field(ge=-100_000, le=100_000)


class PincodeRangeIn(BaseModel):
    first: Pincode
    last: Pincode
    weight: int = Field(ge=-100_000, le=100_000)
    label: str = Field(default="", max_length=60)

    @model_validator(mode="after")
    def _ordered(self) -> PincodeRangeIn:
        if self.first > self.last:
            raise ValueError(f"first {self.first} is after last {self.last}")
        return self


class PriorityWeights(BaseModel):
    """What each fact about an order adds to its priority. Orders are picked by dispatch-by first;
    among those due the same day, the higher total goes first."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    speed: dict[DeliverySpeed, Annotated[int, Field(ge=-100_000, le=100_000)]] = Field(
        max_length=len(DeliverySpeed)
    )
    prepaid: int = Field(ge=-100_000, le=100_000)
    cod: int = Field(default=0, ge=-100_000, le=100_000)
    value_bands: list[ValueBandIn] = Field(default_factory=list, max_length=20)
    channels: dict[Channel, Annotated[int, Field(ge=-100_000, le=100_000)]] = Field(
        default_factory=dict, max_length=len(Channel)
    )
    pincodes: list[PincodeRangeIn] = Field(
        default_factory=list, max_length=200, description="The first range that holds the pincode counts."
    )

    def weights(self) -> Weights:
        """As the domain takes them."""
        return Weights(
            speed={s.value: w for s, w in self.speed.items()},
            prepaid=self.prepaid,
            cod=self.cod,
            value_bands=tuple(ValueBand(b.from_paise, b.weight) for b in self.value_bands),
            channels={c.value: w for c, w in self.channels.items()},
            pincodes=tuple(PincodeRange(r.first, r.last, r.weight, r.label) for r in self.pincodes),
        )


def weights_of(raw: dict[str, Any]) -> Weights:
    """Stored weights (as validated when they were put) as the domain takes them."""
    return PriorityWeights.model_validate(raw).weights()


def _as_body(weights: Weights) -> dict[str, Any]:
    return {
        "speed": dict(weights.speed),
        "prepaid": weights.prepaid,
        "cod": weights.cod,
        "value_bands": [{"from_paise": b.from_paise, "weight": b.weight} for b in weights.value_bands],
        "channels": dict(weights.channels),
        "pincodes": [
            {"first": r.first, "last": r.last, "weight": r.weight, "label": r.label} for r in weights.pincodes
        ],
    }


class CurrentRules(BaseModel):
    """The weights in force and where they come from."""

    source: Literal["stored", "settings"]
    weights: PriorityWeights


class Queued(BaseModel):
    """One confirmed order in the preview: its priority now and under the previewed weights."""

    order_id: str
    promised_dispatch_by: datetime | None
    priority_now: int | None
    priority: int
    reasons: list[str]


class Preview(BaseModel):
    """Confirmed orders not yet packed, in the order the previewed weights would have them picked."""

    queue: list[Queued]


async def _current(request: Request) -> tuple[str, Weights]:
    stored = await store.priority_weights(request.app.state.service.pool)
    if stored is not None:
        return "stored", weights_of(stored)
    return "settings", weights_from(request.app.state.service.settings.priority_rules())


@router.get("/priority-rules", summary="The priority weights in force", response_model=CurrentRules)
async def get_rules(request: Request, _: Principal = require(*STAFF)) -> dict[str, Any]:
    source, weights = await _current(request)
    return {"source": source, "weights": _as_body(weights)}


@router.put(
    "/priority-rules",
    summary="Replace the priority weights; orders confirmed from now on are ranked by them",
    response_model=CurrentRules,
    responses=errors(422),
)
async def put_rules(request: Request, body: PriorityWeights, principal: Principal = require(Role.OPS)) -> Any:
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        await store.set_priority_weights(conn, weights=body.model_dump(mode="json"), actor=principal.actor)
    return {"source": "stored", "weights": _as_body(body.weights())}


@router.delete(
    "/priority-rules", summary="Go back to the settings' weights (PRIORITY_*)", response_model=CurrentRules
)
async def reset_rules(request: Request, principal: Principal = require(Role.OPS)) -> Any:
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        await store.set_priority_weights(conn, weights=None, actor=principal.actor)
    return {
        "source": "settings",
        "weights": _as_body(weights_from(request.app.state.service.settings.priority_rules())),
    }


@router.post(
    "/priority-rules/preview",
    summary="The dispatch queue of confirmed orders under these weights (the ones in force if none)",
    response_model=Preview,
    responses=errors(422),
)
async def preview(
    request: Request,
    body: Annotated[PriorityWeights | None, Body(examples=[EXAMPLE])] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    _: Principal = require(*STAFF),
) -> dict[str, Any]:
    weights = body.weights() if body is not None else (await _current(request))[1]
    rows = await store.waiting_for_dispatch(request.app.state.service.pool, limit)
    queued: dict[str, dict[str, Any]] = {}
    for r in rows:
        rank, reasons = scored(r.facts, weights)
        queued[r.order_id] = {
            "order_id": r.order_id,
            "promised_dispatch_by": r.promised_dispatch_by,
            "priority_now": r.priority,
            "priority": rank,
            "reasons": list(reasons),
        }
    order = queue_order([(q["promised_dispatch_by"], q["priority"], i) for i, q in queued.items()])
    return {"queue": [queued[i] for i in order]}
