"""In-memory state of the simulated Shiprocket and Xpressbees accounts: tokens and booked orders.
AWBs come from the shared courier counter, so every simulated AWB is unique across couriers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class BookedOrder:
    """An order booked with an aggregator or courier API, and its scans in that courier's codes."""

    reference: str
    order_id: int
    shipment_id: int
    request: dict[str, Any]
    pickup_location: str
    pincode: str
    awb: str | None = None
    cancelled: bool = False
    scans: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime | None = None
    edits: int = 0
    """How many times the client changed the delivery address through the API."""


@dataclass
class AccountState:
    """Issued tokens, orders by reference and by AWB, and the next ids."""

    tokens: set[str] = field(default_factory=set)
    orders: dict[str, BookedOrder] = field(default_factory=dict)
    by_awb: dict[str, BookedOrder] = field(default_factory=dict)
    by_shipment: dict[int, BookedOrder] = field(default_factory=dict)
    next_id: int = 100_001
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def clear(self) -> None:
        self.tokens.clear()
        self.orders.clear()
        self.by_awb.clear()
        self.by_shipment.clear()
        self.next_id = 100_001


class ShiprocketState(AccountState):
    """Shiprocket's: adhoc orders, their shipment ids and AWBs."""


class XpressbeesState(AccountState):
    """Xpressbees': shipments by order number and AWB."""
