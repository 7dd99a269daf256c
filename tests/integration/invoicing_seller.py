"""The Bhiwandi tea seller the invoicing integration tests share: a database of their own with its
GSTIN registered, the BOM1 warehouse under it and Assam tea's tax class; orders of 2 × ₹349 tea
packed there."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from chassis import db
from contracts import Event, OrderPlaced
from contracts.examples import order_placed
from contracts.values import SkuQuantity
from services.invoicing import store
from tests import infra

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "invoicing" / "migrations"
BHIWANDI_GSTIN = "27AAPFU0939F1ZV"  # Maharashtra


@asynccontextmanager
async def seller_database(
    servers: infra.Servers,
    service: str,
    *,
    hsn_code: str = "0902",
    min_size: int = 4,
    max_size: int = 12,
    **registration: Any,
) -> AsyncIterator[asyncpg.Pool]:
    """A database of its own (its series start at 1) with the seller registered: ``registration``
    names what differs from a Chai Point below ₹5 crore."""
    pool = await db.open_database(
        server_url=servers.database_url,
        service=f"{service}_{uuid.uuid4().hex[:8]}",
        migrations_dir=MIGRATIONS,
        min_size=min_size,
        max_size=max_size,
    )
    seller = {
        "legal_name": "Chai Point Retail Private Limited",
        "trade_name": "Chai Point",
        "address": "Plot 12, Bhiwandi MIDC, Thane, Maharashtra 421302",
        "turnover_band": "up_to_5_crore",
    }
    async with pool.acquire() as conn:
        await store.upsert_registration(
            conn, gstin=BHIWANDI_GSTIN, actor="test", **{**seller, **registration}
        )
        await store.set_warehouse_registration(
            conn, warehouse_code="BOM1", gstin=BHIWANDI_GSTIN, actor="test"
        )
        await store.upsert_tax_class(
            conn,
            sku="TEA-ASSAM-250",
            description="Assam tea 250 g",
            hsn_code=hsn_code,
            gst_rate=Decimal(5),
            unit="NOS",
            actor="test",
        )
    try:
        yield pool
    finally:
        await pool.close()


def mumbai_order(order_id: str | None = None) -> OrderPlaced:
    """An order (a new one unless ``order_id`` is named) to Mumbai: from Bhiwandi, within Maharashtra
    (CGST + SGST)."""
    order = order_placed()
    return order.model_copy(
        update={
            "order_id": order_id or f"ORD-{uuid.uuid4().hex[:10]}",
            "shipping_address": order.shipping_address.model_copy(update={"pincode": "400001"}),
        }
    )


async def packed(conn: asyncpg.Connection, order: OrderPlaced, at: datetime) -> str:
    """Record the order and its parcel of 2 × Assam tea from BOM1, packed at ``at``: the shipment id."""
    shipment_id = f"SHP-{uuid.uuid4().hex[:10]}"
    await store.record_order(conn, order)
    await store.record_shipment(
        conn,
        shipment_id=shipment_id,
        order_id=order.order_id,
        warehouse_code="BOM1",
        lines=[SkuQuantity(sku="TEA-ASSAM-250", quantity=2)],
    )
    assert await store.mark_packed(
        conn, shipment_id=shipment_id, order_id=order.order_id, warehouse_code="BOM1", at=at
    )
    return shipment_id


class Emitted(list[Event]):
    """An emit that keeps what it was given."""

    async def __call__(self, event: Event) -> str:
        self.append(event)
        return "id"
