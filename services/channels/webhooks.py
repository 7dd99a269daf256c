"""Store webhooks: one route per platform and account. The signature is checked over the raw body
before anything parses it; a verified delivery is stored durably (concurrent requests share one
commit) and answered at once (Shopify allows 5 s); the intake worker reads it after the answer.
A delivery id seen before is acknowledged and dropped."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from chassis.auth import by_signature
from chassis.http import errors
from chassis.logging import get_logger
from chassis.service import Service
from services.channels import store
from services.channels.intake import ReceiptWriter
from services.channels.stores.interface import Account, StoreAdapter, WebhookRefused

log = get_logger(__name__)


class Accepted(BaseModel):
    """A delivery kept (or known already): stores retry anything but 2xx."""

    accepted: bool
    duplicate: bool
    delivery_id: str


class AccountCache:
    """Accounts as webhooks need them (the secret), kept for ``ttl_s``: a burst of deliveries to one
    store reads its account once. A changed secret or a disabled account is seen within ``ttl_s``;
    an unknown account is never cached, so a new store's first webhook finds it at once."""

    def __init__(self, *, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._found: dict[tuple[str, str], tuple[float, Account]] = {}

    async def get(self, service: Service, platform: str, name: str) -> Account | None:
        """The enabled account of this platform by its name, or None."""
        cached = self._found.get((platform, name))
        if cached is not None and time.monotonic() - cached[0] < self._ttl_s:
            return cached[1]
        async with service.pool.acquire() as conn:
            found = await store.get_account(conn, name)
        if found is None or found.platform != platform:
            self._found.pop((platform, name), None)
            return None
        self._found[(platform, name)] = (time.monotonic(), found)
        return found


def build_router(
    adapters: dict[str, StoreAdapter], receipts: ReceiptWriter, *, account_cache_s: float
) -> APIRouter:
    """POST /webhooks/{platform}/{account} for every platform."""
    router = APIRouter(prefix="/webhooks", tags=["store webhooks"])
    accounts = AccountCache(ttl_s=account_cache_s)
    for platform, adapter in adapters.items():
        router.add_api_route(
            f"/{platform}/{{account}}",
            _receiver(platform, adapter, receipts, accounts),
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
    platform: str, adapter: StoreAdapter, receipts: ReceiptWriter, accounts: AccountCache
) -> Callable[[Request, str], Awaitable[Any]]:
    async def receive(request: Request, account: str) -> Any:
        body = await request.body()
        found = await accounts.get(request.app.state.service, platform, account)
        if found is None:
            return _refused(404, "account", f"no {platform} channel account {account!r}")
        try:
            delivery = adapter.verify_webhook(found, request.headers, body)
        except WebhookRefused as exc:
            log.warning("webhook refused", account=account, problem=str(exc))
            return _refused(exc.status, "headers", str(exc))
        fresh = await receipts.keep(account, delivery)
        # A response object skips FastAPI's encoding of a returned dict: this route is the hot path.
        return JSONResponse({"accepted": True, "duplicate": not fresh, "delivery_id": delivery.delivery_id})

    return receive
