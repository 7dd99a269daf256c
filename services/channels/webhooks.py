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
from chassis.refusal import Refusal
from chassis.service import Service
from services.channels import store
from services.channels.intake import ReceiptWriter
from services.channels.stores.interface import Account, Delivery, StoreAdapter, WebhookRefused

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
        )
    return router


def _verifier(
    platform: str, adapter: StoreAdapter, accounts: AccountCache
) -> Callable[[Request], Awaitable[Delivery]]:
    async def verified_delivery(request: Request) -> Delivery:
        """The account and delivery of a push signed with that account's webhook secret (checked
        over the raw body before anything parses it); refused otherwise."""
        account = str(request.path_params.get("account", ""))
        found = await accounts.get(request.app.state.service, platform, account)
        if found is None:
            raise Refusal("account", f"no {platform} channel account {account!r}", status=404)
        try:
            return adapter.verify_webhook(found, request.headers, await request.body())
        except WebhookRefused as exc:
            log.warning("webhook refused", account=account, problem=str(exc))
            raise Refusal("headers", str(exc), status=exc.status, error="webhook refused") from None

    return verified_delivery


def _receiver(
    platform: str, adapter: StoreAdapter, receipts: ReceiptWriter, accounts: AccountCache
) -> Callable[..., Awaitable[Any]]:
    async def receive(
        account: str,
        # A default, not Annotated: the annotation is a string resolved outside this closure.
        delivery: Delivery = by_signature(platform, _verifier(platform, adapter, accounts)),
    ) -> Any:
        fresh = await receipts.keep(account, delivery)
        # A response object skips FastAPI's encoding of a returned dict: this route is the hot path.
        return JSONResponse({"accepted": True, "duplicate": not fresh, "delivery_id": delivery.delivery_id})

    return receive
