"""Courier tracking webhooks: one route per courier, each verified with that courier's token or
signature, mapped to canonical states and applied forward-only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from chassis.auth import by_signature
from services.shipping import updates
from services.shipping.couriers.interface import CourierAdapter, WebhookRefused


def build_router(adapters: dict[str, CourierAdapter], *, max_attempts: int) -> APIRouter:
    """One webhook route per courier account."""
    router = APIRouter(prefix="/webhooks/couriers", tags=["courier webhooks"])
    for name, adapter in adapters.items():
        router.add_api_route(
            f"/{name}",
            _receiver(name, adapter, max_attempts=max_attempts),
            methods=["POST"],
            summary=f"{name} tracking push",
            dependencies=[by_signature(name)],
        )
    return router


def _receiver(
    courier: str, adapter: CourierAdapter, *, max_attempts: int
) -> Callable[[Request], Awaitable[Any]]:
    async def receive(request: Request) -> Any:
        service = request.app.state.service
        body = await request.body()
        try:
            scans = adapter.read_webhook(request.headers, body)
        except WebhookRefused as exc:
            return JSONResponse(
                {"error": "webhook refused", "problems": [{"field": "headers", "problem": str(exc)}]},
                status_code=exc.status,
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
