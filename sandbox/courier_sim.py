"""The couriers' road, simulated: parcels go picked up → in transit → out for delivery → delivered,
fail attempts (NDR) and go back to origin (RTO) with configurable delays and probabilities, and
each courier module turns every step into its own scan and webhook, sent to SHIPPING_URL.

Knobs (POST /_sandbox/couriers/simulation): step delay, NDR and courier-initiated RTO
probabilities, automatic re-attempt after an unanswered NDR, a random seed; and per shipment
reference a script (POST /_sandbox/couriers/scripts) so a test decides exactly what happens.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field


def utc_now() -> datetime:
    return datetime.now(UTC)


NDR_TEXT = {
    "customer_unavailable": "Consignee not available",
    "phone_unreachable": "Consignee phone not reachable",
    "cash_not_ready": "Cash not ready with consignee",
    "future_delivery_requested": "Consignee requested future delivery",
    "refused": "Consignee refused to accept",
    "wrong_or_incomplete_address": "Incomplete address",
    "out_of_delivery_area": "Out of delivery area",
    "other": "Shipment held",
}
"""How couriers word each NDR reason in their remarks."""


class Step(StrEnum):
    """Where a parcel is on the road, courier-neutral; each courier module names it its own way."""

    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    NDR = "ndr"
    RTO_INITIATED = "rto_initiated"
    RTO_IN_TRANSIT = "rto_in_transit"
    RTO_DELIVERED = "rto_delivered"
    LOST = "lost"


@dataclass(frozen=True)
class RoadEvent:
    """One step a parcel took, when, and for an NDR why and on which attempt."""

    step: Step
    at: datetime
    attempt: int
    ndr_reason: str | None = None
    location: str = ""


@dataclass
class Script:
    """What happens to one shipment: the first ``fail_attempts`` deliveries fail with ``ndr_reason``."""

    fail_attempts: int = 0
    ndr_reason: str = "customer_unavailable"
    lost: bool = False


@dataclass
class Knobs:
    """How the simulated road behaves; ``auto_advance`` off leaves unscripted parcels where they are."""

    auto_advance: bool = False
    step_delay_ms: int = 200
    ndr_probability: float = 0.0
    rto_probability: float = 0.0
    auto_reattempt_ms: int | None = None
    max_auto_reattempts: int = 2
    """Couriers re-attempt on their own this many times, then wait for the shipper's instruction."""
    seed: int | None = None
    webhook_tries: int = 3
    """Couriers retry a webhook that failed (no answer or 5xx), with backoff."""


# A courier module renders a road event into (its scan, its webhook request) through these.
Recorder = Callable[["Parcel", RoadEvent], None]
WebhookRenderer = Callable[["Parcel", RoadEvent], tuple[str, dict[str, str], bytes]]


@dataclass
class Parcel:
    """A booked shipment on the road."""

    courier: str
    awb: str
    reference: str
    destination: str
    origin: str
    script: Script | None
    events: list[RoadEvent] = field(default_factory=list)
    attempt: int = 0
    waiting_since: datetime | None = None
    next_step: Step | None = Step.PICKED_UP
    due: float = 0.0
    cancelled: bool = False


@dataclass
class Simulation:
    """Every parcel on the road, the scripts waiting for references, the knobs and the webhook queue."""

    knobs: Knobs = field(default_factory=Knobs)
    parcels: dict[tuple[str, str], Parcel] = field(default_factory=dict)
    scripts: dict[str, Script] = field(default_factory=dict)
    recorders: dict[str, Recorder] = field(default_factory=dict)
    renderers: dict[str, WebhookRenderer] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    shipping_url: str = "http://localhost:8004"
    _task: asyncio.Task[None] | None = None
    _http: httpx.AsyncClient | None = None

    def clear(self) -> None:
        self.parcels.clear()
        self.scripts.clear()
        self.sent.clear()
        self.knobs = Knobs()

    def start(self) -> None:
        """Run the road in the background (once, in the server's loop)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def book(self, courier: str, awb: str, reference: str, *, origin: str, destination: str) -> None:
        """A new parcel: it moves if a script names it or auto_advance is on. Call with ``lock`` held."""
        script = self.scripts.get(reference)
        self.parcels[(courier, awb)] = Parcel(
            courier=courier,
            awb=awb,
            reference=reference,
            origin=origin,
            destination=destination,
            script=script,
            due=self._later(),
        )
        self.start()

    def _later(self) -> float:
        return asyncio.get_running_loop().time() + self.knobs.step_delay_ms / 1000

    def moving(self, parcel: Parcel) -> bool:
        return not parcel.cancelled and (parcel.script is not None or self.knobs.auto_advance)

    def act(self, courier: str, awb: str, action: str) -> str | None:
        """An NDR instruction from the shipper: reattempt or rto. None if it applies, else why not."""
        parcel = self.parcels.get((courier, awb))
        if parcel is None:
            return "no such shipment"
        if parcel.waiting_since is None:
            return "shipment is not waiting on an NDR"
        parcel.waiting_since = None
        parcel.next_step = Step.RTO_INITIATED if action == "rto" else Step.OUT_FOR_DELIVERY
        parcel.due = self._later()
        return None

    def _fails(self, parcel: Parcel) -> bool:
        if parcel.script is not None:
            return parcel.attempt <= parcel.script.fail_attempts
        return self.rng.random() < self.knobs.ndr_probability

    def _advance(self, parcel: Parcel) -> RoadEvent | None:
        step = parcel.next_step
        if step is None:
            return None
        reason = None
        following: Step | None
        if step is Step.OUT_FOR_DELIVERY:
            parcel.attempt += 1
            following = Step.NDR if self._fails(parcel) else Step.DELIVERED
        elif step is Step.IN_TRANSIT and parcel.script is not None and parcel.script.lost:
            following = Step.LOST
        elif step is Step.NDR:
            reason = parcel.script.ndr_reason if parcel.script else "customer_unavailable"
            parcel.waiting_since = utc_now()
            following = None
            if parcel.script is None and self.rng.random() < self.knobs.rto_probability:
                parcel.waiting_since, following = None, Step.RTO_INITIATED
        else:
            following = {
                Step.PICKED_UP: Step.IN_TRANSIT,
                Step.IN_TRANSIT: Step.OUT_FOR_DELIVERY,
                Step.RTO_INITIATED: Step.RTO_IN_TRANSIT,
                Step.RTO_IN_TRANSIT: Step.RTO_DELIVERED,
            }.get(step)
        location = parcel.origin if step in (Step.PICKED_UP, Step.RTO_DELIVERED) else parcel.destination
        event = RoadEvent(
            step=step, at=utc_now(), attempt=parcel.attempt, ndr_reason=reason, location=location
        )
        parcel.events.append(event)
        parcel.next_step = following
        parcel.due = self._later()
        return event

    async def tick(self) -> list[tuple[Parcel, RoadEvent]]:
        """Move every parcel that is due by one step; returns what happened."""
        now = asyncio.get_running_loop().time()
        happened: list[tuple[Parcel, RoadEvent]] = []
        async with self.lock:
            for parcel in self.parcels.values():
                if not self.moving(parcel) or parcel.due > now:
                    continue
                if parcel.waiting_since is not None:
                    wait = self.knobs.auto_reattempt_ms
                    if (
                        wait is None
                        or parcel.attempt > self.knobs.max_auto_reattempts
                        or (utc_now() - parcel.waiting_since).total_seconds() * 1000 < wait
                    ):
                        continue
                    parcel.waiting_since, parcel.next_step = None, Step.OUT_FOR_DELIVERY
                event = self._advance(parcel)
                if event is not None:
                    self.recorders[parcel.courier](parcel, event)
                    happened.append((parcel, event))
        return happened

    async def deliver(self, parcel: Parcel, event: RoadEvent) -> dict[str, Any]:
        """Send the courier's webhook for one event as the courier would, retrying a failed call a
        few times with backoff (couriers retry anything but 2xx); returns what was sent."""
        path, headers, body = self.renderers[parcel.courier](parcel, event)
        record: dict[str, Any] = {"courier": parcel.courier, "awb": parcel.awb, "step": event.step.value}
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10)
        tries = max(1, self.knobs.webhook_tries)
        for attempt in range(1, tries + 1):
            record["tries"] = attempt
            try:
                response = await self._http.post(
                    self.shipping_url.rstrip("/") + path,
                    content=body,
                    headers={**headers, "Content-Type": "application/json"},
                )
            except httpx.HTTPError as exc:
                record["error"] = repr(exc)
            else:
                record["status_code"] = response.status_code
                if response.status_code < 500:
                    break
            if attempt < tries:
                await asyncio.sleep(0.2 * 2**attempt)
        self.sent.append(record)
        del self.sent[:-1000]
        return record

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            for parcel, event in await self.tick():
                # One parcel's webhooks go out in order, like a courier's per-AWB queue.
                await self.deliver(parcel, event)


class KnobsRequest(BaseModel):
    """Change how the simulated road behaves (omitted fields keep their value)."""

    auto_advance: bool | None = None
    step_delay_ms: int | None = Field(default=None, ge=0, le=600_000)
    ndr_probability: float | None = Field(default=None, ge=0, le=1)
    rto_probability: float | None = Field(default=None, ge=0, le=1)
    auto_reattempt_ms: int | None = Field(default=None, ge=0)
    max_auto_reattempts: int | None = Field(default=None, ge=0)
    webhook_tries: int | None = Field(default=None, ge=1, le=10)
    seed: int | None = None


class ScriptRequest(BaseModel):
    """Decide one shipment's fate by its reference (the shipper's shipment id), before or after booking."""

    reference: str = Field(min_length=1)
    fail_attempts: int = Field(default=0, ge=0, le=10)
    ndr_reason: str = "customer_unavailable"
    lost: bool = False


class ReplayRequest(BaseModel):
    """Send the webhook of an earlier event again: couriers re-send and send late."""

    index: int = Field(default=-1, description="Which event of the parcel, -1 the latest.")


async def get_sim(request: Request) -> Simulation:
    sim: Simulation = request.app.state.sandbox.simulation
    return sim


Sim = Annotated[Simulation, Depends(get_sim)]
router = APIRouter(prefix="/_sandbox/couriers")


@router.post("/simulation")
async def set_knobs(body: KnobsRequest, sim: Sim) -> dict[str, Any]:
    async with sim.lock:
        for name, value in body.model_dump(exclude_unset=True).items():
            setattr(sim.knobs, name, value)
        if body.seed is not None:
            sim.rng.seed(body.seed)
        sim.start()
        return asdict(sim.knobs)


@router.post("/scripts")
async def set_script(body: ScriptRequest, sim: Sim) -> dict[str, Any]:
    script = Script(fail_attempts=body.fail_attempts, ndr_reason=body.ndr_reason, lost=body.lost)
    async with sim.lock:
        sim.scripts[body.reference] = script
        for parcel in sim.parcels.values():
            if parcel.reference == body.reference:
                parcel.script = script
        sim.start()
    return {"reference": body.reference, **asdict(script)}


@router.get("/parcels")
async def list_parcels(
    sim: Sim, reference: str | None = None, awb: str | None = None
) -> list[dict[str, Any]]:
    async with sim.lock:
        return [
            {
                "courier": p.courier,
                "awb": p.awb,
                "reference": p.reference,
                "attempt": p.attempt,
                "waiting_on_ndr": p.waiting_since is not None,
                "next_step": p.next_step.value if p.next_step else None,
                "cancelled": p.cancelled,
                "events": [
                    {"step": e.step.value, "at": e.at.isoformat(), "attempt": e.attempt} for e in p.events
                ],
            }
            for p in sim.parcels.values()
            if (reference is None or p.reference == reference) and (awb is None or p.awb == awb)
        ]


@router.post("/{courier}/parcels/{awb}/replay")
async def replay(courier: str, awb: str, body: ReplayRequest, sim: Sim) -> dict[str, Any]:
    async with sim.lock:
        parcel = sim.parcels.get((courier, awb))
        if parcel is None or not parcel.events:
            raise HTTPException(404, detail=f"no events for {courier} {awb}")
        try:
            event = parcel.events[body.index]
        except IndexError:
            raise HTTPException(404, detail=f"{courier} {awb} has {len(parcel.events)} events") from None
    return await sim.deliver(parcel, event)


@router.get("/webhooks")
async def sent_webhooks(sim: Sim, awb: str | None = None) -> list[dict[str, Any]]:
    return [r for r in sim.sent if awb is None or r["awb"] == awb]
