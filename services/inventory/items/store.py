"""SQL for the item master: one row per SKU, replaced whole on import."""

from __future__ import annotations

from chassis.db import Conn, Queryable
from services.inventory.records import Item

ITEM_COLUMNS = (
    "sku",
    "name",
    "category",
    "barcode",
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
    "hsn_code",
    "mrp_paise",
)


async def upsert_items(conn: Conn, items: list[dict[str, object]], *, actor: str) -> None:
    """Create or replace items (one statement for a whole CSV)."""
    await conn.executemany(
        f"""INSERT INTO items ({", ".join(ITEM_COLUMNS)}, updated_by)
            VALUES ({", ".join(f"${i}" for i in range(1, len(ITEM_COLUMNS) + 2))})
            ON CONFLICT (sku) DO UPDATE SET
                {", ".join(f"{c} = EXCLUDED.{c}" for c in ITEM_COLUMNS[1:])},
                updated_by = EXCLUDED.updated_by, updated_at = now()""",
        [(*(item[c] for c in ITEM_COLUMNS), actor) for item in items],
    )


async def barcode_owners(conn: Queryable, barcodes: list[str]) -> dict[str, str]:
    """barcode → the SKU that already carries it."""
    rows = await conn.fetch("SELECT barcode, sku FROM items WHERE barcode = ANY($1::text[])", barcodes)
    return {r["barcode"]: r["sku"] for r in rows}


async def item(pool: Queryable, sku: str) -> Item | None:
    """One item."""
    row = await pool.fetchrow("SELECT * FROM items WHERE sku = $1", sku)
    return Item.of(row) if row else None


async def items(pool: Queryable, *, category: str | None, limit: int, after: str | None) -> list[Item]:
    """Items by SKU, a page at a time."""
    rows = await pool.fetch(
        """SELECT * FROM items WHERE ($1::text IS NULL OR category = $1)
             AND ($2::text IS NULL OR sku > $2) ORDER BY sku LIMIT $3""",
        category,
        after,
        limit,
    )
    return [Item.of(r) for r in rows]


async def delete_item(conn: Queryable, sku: str) -> bool:
    """Remove an item that holds no stock; False when there was no such item."""
    return await conn.fetchval("DELETE FROM items WHERE sku = $1 RETURNING true", sku) is not None


async def holds_stock(conn: Queryable, sku: str) -> bool:
    """Whether any warehouse has units of the SKU on hand or reserved."""
    return bool(await conn.fetchval("SELECT true FROM stock WHERE sku = $1 AND on_hand > 0 LIMIT 1", sku))
