"""Store webhooks: one route per platform and account. The signature is checked over the raw body
before anything parses it; a verified delivery is stored durably (concurrent requests share one
commit) and answered at once (Shopify allows 5 s); the intake worker reads it after the answer.
A delivery id seen before is acknowledged and dropped.

A sale floods these routes, so they are served light (chassis.http.light, ADR 430): straight from
ASGI through the body limit, by the same verifier and writer as the FastAPI route that documents them."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from pydantic import BaseModel

from chassis.auth import by_signature
from chassis.http import LightRequest, errors, light
from chassis.logging import get_logger
from chassis.refusal import Refusal
from chassis.service import Service
from services.channels import store
from services.channels.intake import ReceiptWriter
from services.channels.stores.interface import Account, Delivery, StoreAdapter, WebhookRefused

log = get_logger(__name__)

RECEIVED = Counter(
    "dabba_store_webhooks_total",
    "Store webhooks answered, by platform and outcome (stored, duplicate, refused)",
    ["platform", "outcome"],
)


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
            Receiver(platform, adapter, accounts, receipts).endpoint(),
            methods=["POST"],
            summary=f"{platform} order webhooks of one channel account",
            response_model=Accepted,
            responses=errors(401, 404),
        )
    return router


@dataclass(frozen=True, slots=True)
class Receiver:
    """The webhooks of one platform: verified, then kept; the FastAPI route and its light twin
    (what serves them) both go through here."""

    platform: str
    adapter: StoreAdapter
    accounts: AccountCache
    receipts: ReceiptWriter

    async def verified(
        self, service: Service, account: str, headers: Mapping[str, str], body: bytes
    ) -> Delivery:
        """The delivery of a push signed with this account's webhook secret (checked over the raw
        body before anything parses it); refused otherwise, with nothing written."""
        found = await self.accounts.get(service, self.platform, account)
        if found is None:
            RECEIVED.labels(self.platform, "refused").inc()
            raise Refusal("account", f"no {self.platform} channel account {account!r}", status=404)
        try:
            return self.adapter.verify_webhook(found, headers, body)
        except WebhookRefused as exc:
            RECEIVED.labels(self.platform, "refused").inc()
            log.warning("webhook refused", account=account, problem=str(exc))
            raise Refusal("headers", str(exc), status=exc.status, error="webhook refused") from None

    async def kept(self, account: str, delivery: Delivery) -> dict[str, Any]:
        """Store a verified delivery (returns once its commit is done): the answer's body."""
        fresh = await self.receipts.keep(account, delivery)
        RECEIVED.labels(self.platform, "stored" if fresh else "duplicate").inc()
        return {"accepted": True, "duplicate": not fresh, "delivery_id": delivery.delivery_id}

    async def light(self, request: LightRequest) -> tuple[int, dict[str, Any]]:
        """What serves the route (chassis.http.light)."""
        account = str(request.path_params["account"])
        delivery = await self.verified(request.app.state.service, account, request.headers, request.body)
        return 200, await self.kept(account, delivery)

    def endpoint(self) -> Callable[..., Awaitable[Any]]:
        """The FastAPI route: documents the webhook and declares its verifier."""

        async def verified_delivery(request: Request) -> Delivery:
            account = str(request.path_params.get("account", ""))
            return await self.verified(
                request.app.state.service, account, request.headers, await request.body()
            )

        async def receive(
            account: str,
            # A default, not Annotated: the annotation is a string resolved outside this closure.
            delivery: Delivery = by_signature(self.platform, verified_delivery),
        ) -> Any:
            return JSONResponse(await self.kept(account, delivery))

        light(receive, self.light)
        return receive
