"""What the marketplace sellers (Amazon, Flipkart) share apart from their providers' shapes: a page of
the order listing held unanswered until a test releases it, and the control routes over it and the
seller's tokens."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import APIRouter, Query, Request


@dataclass
class PageHold:
    """Counts the listing's pages served and holds the one a test asked for until it is released."""

    page: int | None = None
    served: int = 0
    held: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def hold(self, page: int) -> None:
        self.page, self.held, self.released = page, asyncio.Event(), asyncio.Event()

    def release(self) -> None:
        self.page = None
        self.released.set()

    @property
    def holding(self) -> bool:
        return self.held.is_set() and not self.released.is_set()

    async def serve(self) -> None:
        """Count one page served; wait here if it is the held one."""
        self.served += 1
        if self.page is not None and self.served == self.page:
            self.held.set()
            await self.released.wait()


class _Tokens(Protocol):
    def __len__(self) -> int: ...

    def clear(self) -> None: ...


class MarketplaceSeller(Protocol):
    @property
    def tokens(self) -> _Tokens: ...

    @property
    def pages(self) -> PageHold: ...


def add_seller_controls(
    control: APIRouter, seller_of: Callable[[Request, str], MarketplaceSeller], listing: str
) -> None:
    """Expire every token of a seller; hold the page of ``listing`` a test names, and release it."""

    @control.post("/{seller}/expire-tokens")
    async def expire_tokens(seller: str, request: Request) -> dict[str, Any]:
        tokens = seller_of(request, seller).tokens
        expired = len(tokens)
        tokens.clear()
        return {"expired": expired}

    @control.post(
        "/{seller}/hold", description=f"Hold {listing}'s page ``page`` (1 is the first) until released."
    )
    async def hold(seller: str, request: Request, page: int = Query(ge=1)) -> dict[str, Any]:
        seller_of(request, seller).pages.hold(page)
        return {"holding_page": page}

    @control.post("/{seller}/release")
    async def release(seller: str, request: Request) -> dict[str, Any]:
        seller_of(request, seller).pages.release()
        return {"released": True}
