"""Store webhooks: one route per platform and account. The signature is checked over the raw body
before anything parses it; a verified delivery is stored and answered at once (Shopify allows 5 s),
then read after the answer. A delivery id seen before is acknowledged and dropped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from chassis.auth import by_signature
from chassis.http import errors
from chassis.logging import get_logger
from chassis.service import Service
from services.channels import intake, store
from services.channels.stores.interface import StoreAdapter, WebhookRefused

log = get_logger(__name__)


class Accepted(BaseModel):
    """A delivery kept (or known already): stores retry anything but 2xx."""

    accepted: bool
    duplicate: bool
    delivery_id: str


def build_router(adapters: dict[str, StoreAdapter]) -> APIRouter:
    """POST /webhooks/{platform}/{account} for every platform."""
    router = APIRouter(prefix="/webhooks", tags=["store webhooks"])
    for platform, adapter in adapters.items():
        router.add_api_route(
            f"/{platform}/{{account}}",
            _receiver(platform, adapter, adapters),
            methods=["POST"],
            summary=f"{platform} order webhooks of one channel account",
            response_model=Accepted,
            responses=errors(401, 404),
            dependencies=[by_signature(platform)],
        )
    return router


def _refused(status: int, field: str, problem: str) -> JSONResponse:
    error = {401: "webhook refused", 404: "not found"}.get(status, "invalid request")
    return JSONResponse(
        {"error": error, "problems": [{"field": field, "problem": problem}]}, status_code=status
    )


def _receiver(
    platform: str, adapter: StoreAdapter, adapters: dict[str, StoreAdapter]
) -> Callable[[Request, str, BackgroundTasks], Awaitable[Any]]:
    async def receive(request: Request, account: str, background: BackgroundTasks) -> Any:
        service: Service = request.app.state.service
        body = await request.body()
        async with service.pool.acquire() as conn:
            found = await store.get_account(conn, account)
        if found is None or found.platform != platform:
            return _refused(404, "account", f"no {platform} channel account {account!r}")
        try:
            delivery = adapter.verify_webhook(found, request.headers, body)
        except WebhookRefused as exc:
            log.warning("webhook refused", account=account, problem=str(exc))
            return _refused(exc.status, "headers", str(exc))
        async with service.pool.acquire() as conn:
            fresh = await store.insert_receipt(conn, account, delivery)
        if fresh:
            background.add_task(
                intake.process_pending, service, adapters, account=account, delivery_id=delivery.delivery_id
            )
        return {"accepted": True, "duplicate": not fresh, "delivery_id": delivery.delivery_id}

    return receive
