"""Courier tracking webhooks: one route per courier, each verified with that courier's token or
signature, mapped to canonical states and applied forward-only.

A push that claims a final state (delivered, returned to origin, lost) is confirmed with the
courier's tracking API before it counts: a leaked webhook token must not close a parcel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from chassis.auth import by_signature
from chassis.http import errors
from chassis.logging import get_logger
from chassis.refusal import Refusal
from services.shipping import updates
from services.shipping.couriers.interface import CourierAdapter, CourierError, CourierScan, WebhookRefused
from services.shipping.domain import tracking

log = get_logger(__name__)


class Received(BaseModel):
    """What a push changed: couriers retry anything but 2xx, so a push that moves nothing is 200 too."""

    received: int
    moved: list[str]


def build_router(adapters: dict[str, CourierAdapter], *, max_attempts: int) -> APIRouter:
    """One webhook route per courier account."""
    router = APIRouter(prefix="/webhooks/couriers", tags=["courier webhooks"])
    for name, adapter in adapters.items():
        router.add_api_route(
            f"/{name}",
            _receiver(name, adapter, max_attempts=max_attempts),
            methods=["POST"],
            summary=f"{name} tracking push",
            response_model=Received,
            responses={
                **errors(401, 403),
                503: {"description": "A final state not confirmable now: the courier pushes again later"},
            },
        )
    return router


def _verifier(adapter: CourierAdapter) -> Callable[[Request], Awaitable[list[CourierScan]]]:
    async def verified_scans(request: Request) -> list[CourierScan]:
        """The scans of a push carrying the courier's token or signature (the adapter checks it
        before reading the body); refused otherwise."""
        try:
            return adapter.read_webhook(request.headers, await request.body())
        except WebhookRefused as exc:
            field = "body" if exc.status == 400 else "headers"
            raise Refusal(field, str(exc), status=exc.status, error="webhook refused") from None

    return verified_scans


def _receiver(courier: str, adapter: CourierAdapter, *, max_attempts: int) -> Callable[..., Awaitable[Any]]:
    async def receive(
        request: Request,
        # A default, not Annotated: the annotation is a string resolved outside this closure.
        scans: list[CourierScan] = by_signature(courier, _verifier(adapter)),
    ) -> Any:
        service = request.app.state.service
        try:
            scans = await confirm_final_states(adapter, scans)
        except CourierError as exc:
            log.warning("final state not confirmable now", courier=courier, error=str(exc))
            # Not 2xx, so the courier pushes it again later, when its tracking API answers.
            return JSONResponse(
                {"error": "unconfirmed", "problems": [{"field": "body", "problem": "tracking unavailable"}]},
                status_code=503,
            )
        async with service.pool.acquire() as conn, conn.transaction():
            moved = await updates.apply_scans(
                conn,
                courier=courier,
                scans=scans,
                source="webhook",
                emit=lambda event: service.emit(conn, event),
                max_attempts=max_attempts,
            )
        # Couriers retry anything but 2xx: a scan that changes nothing is still accepted.
        return {"received": len(scans), "moved": [s.value for s in moved]}

    return receive


async def confirm_final_states(adapter: CourierAdapter, scans: list[CourierScan]) -> list[CourierScan]:
    """The pushed scans, where an AWB claimed a final state replaced by its tracking API's scans.

    Called outside any transaction (a provider call). The tracking API's history carries the
    same scans again; applying them is idempotent."""
    claimed = sorted({s.awb for s in scans if s.status in tracking.CONFIRMED_BY_TRACKING})
    if not claimed:
        return scans
    confirmed = [s for s in scans if s.awb not in claimed]
    for awb in claimed:
        history = await adapter.track(awb)
        if not any(s.status in tracking.CONFIRMED_BY_TRACKING for s in history):
            log.warning("pushed final state not confirmed by tracking", awb=awb)
        confirmed.extend(history)
    return confirmed
