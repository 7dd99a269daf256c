"""Shipping's reference data: couriers' serviceability and rate cards, warehouses' pickup addresses and
SKUs' sizes. Plain asyncpg, one function per question or change, and the in-process cache every
booking reads them through (changes written here drop it once they commit)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import asyncpg

from chassis.db import Conn
from chassis.geo import Zone
from contracts import CourierServiceabilityChanged, ServiceabilityChanged
from services.shipping.domain.allocation import Dimensions, RateCard, Serviceability

# --- courier data -------------------------------------------------------------------------------


async def replace_serviceability(conn: Conn, rows: list[Serviceability], *, source: str) -> None:
    """The couriers in ``rows`` now serve exactly these pincodes, loaded now from ``source``."""
    couriers = sorted({r.courier for r in rows})
    await conn.execute("DELETE FROM serviceability WHERE courier = ANY($1::text[])", couriers)
    await conn.executemany(
        """INSERT INTO serviceability (courier, pincode, prepaid, cod, reverse_pickup, pickup, source)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        [(r.courier, r.pincode, r.prepaid, r.cod, r.reverse_pickup, r.pickup, source) for r in rows],
    )
    reference_changed(conn)


async def served_pincodes(conn: Conn) -> ServiceabilityChanged:
    """What routing is told after a load (ADR 0311): every courier with data, and the pincodes some
    courier delivers prepaid and cash-on-delivery parcels to, sorted."""
    row = await conn.fetchrow(
        """SELECT coalesce(array_agg(DISTINCT courier ORDER BY courier), '{}') AS couriers,
                  coalesce(array_agg(DISTINCT pincode ORDER BY pincode) FILTER (WHERE prepaid), '{}')
                      AS prepaid,
                  coalesce(array_agg(DISTINCT pincode ORDER BY pincode) FILTER (WHERE cod), '{}') AS cod,
                  now() AS loaded_at
             FROM serviceability"""
    )
    assert row is not None
    return ServiceabilityChanged(
        couriers=row["couriers"], prepaid=row["prepaid"], cod=row["cod"], loaded_at=row["loaded_at"]
    )


async def unannounced_couriers(conn: Conn) -> list[str]:
    """Couriers whose latest serviceability load routing has not been told of on v2 (ADR 0410)."""
    rows = await conn.fetch(
        """SELECT s.courier
             FROM (SELECT courier, max(loaded_at) AS loaded_at FROM serviceability GROUP BY courier) s
             LEFT JOIN serviceability_announced a USING (courier)
            WHERE a.loaded_at IS DISTINCT FROM s.loaded_at
            ORDER BY s.courier"""
    )
    return [r["courier"] for r in rows]


async def courier_serviceability(conn: Conn, courier: str) -> CourierServiceabilityChanged:
    """One courier's whole serviceability as routing is told it (ADR 0410): where it picks up (None
    when its data says nothing of pickup) and where it delivers prepaid and COD parcels, sorted."""
    row = await conn.fetchrow(
        """SELECT CASE WHEN bool_and(pickup IS NOT NULL)
                       THEN coalesce(array_agg(pincode ORDER BY pincode) FILTER (WHERE pickup), '{}')
                  END AS pickup,
                  coalesce(array_agg(pincode ORDER BY pincode) FILTER (WHERE prepaid), '{}') AS prepaid,
                  coalesce(array_agg(pincode ORDER BY pincode) FILTER (WHERE cod), '{}') AS cod,
                  max(loaded_at) AS loaded_at
             FROM serviceability WHERE courier = $1""",
        courier,
    )
    assert row is not None and row["loaded_at"] is not None, f"no serviceability for {courier}"
    return CourierServiceabilityChanged(courier=courier, **dict(row))


async def mark_announced(conn: Conn, courier: str, loaded_at: datetime) -> None:
    """Routing has been told of this courier's load."""
    await conn.execute(
        """INSERT INTO serviceability_announced (courier, loaded_at) VALUES ($1, $2)
           ON CONFLICT (courier) DO UPDATE SET loaded_at = excluded.loaded_at""",
        courier,
        loaded_at,
    )


async def replace_rate_cards(conn: Conn, rows: list[RateCard], *, source: str) -> None:
    """The couriers in ``rows`` now price by exactly these cards."""
    couriers = sorted({r.courier for r in rows})
    await conn.execute("DELETE FROM rate_cards WHERE courier = ANY($1::text[])", couriers)
    await conn.executemany(
        """INSERT INTO rate_cards (courier, zone, first_slab_grams, first_slab_paise, additional_slab_grams,
                                   additional_slab_paise, cod_fixed_paise, cod_percent_bp, sla_days, source)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        [
            (
                r.courier,
                r.zone.value,
                r.first_slab_grams,
                r.first_slab_paise,
                r.additional_slab_grams,
                r.additional_slab_paise,
                r.cod_fixed_paise,
                r.cod_percent_bp,
                r.sla_days,
                source,
            )
            for r in rows
        ],
    )
    reference_changed(conn)


async def couriers_with_data(conn: Conn, table: str) -> set[str]:
    """Couriers that already have rows in ``serviceability`` or ``rate_cards``."""
    assert table in ("serviceability", "rate_cards")
    return {r["courier"] for r in await conn.fetch(f"SELECT DISTINCT courier FROM {table}")}


async def courier_data_summary(pool: asyncpg.Pool, *, after: str | None, limit: int) -> list[dict[str, Any]]:
    """Per courier, by name after `after`: pincodes served, zones priced, and when each was loaded."""
    rows = await pool.fetch(
        """SELECT c.courier, s.pincodes, s.loaded_at AS serviceability_loaded_at,
                  s.source AS serviceability_source,
                  r.zones, r.loaded_at AS rate_card_loaded_at, r.source AS rate_card_source
             FROM (SELECT courier FROM serviceability UNION SELECT courier FROM rate_cards) c
             LEFT JOIN (SELECT courier, count(*) AS pincodes, max(loaded_at) AS loaded_at,
                               max(source) AS source
                          FROM serviceability GROUP BY courier) s USING (courier)
             LEFT JOIN (SELECT courier, count(*) AS zones, max(loaded_at) AS loaded_at,
                               max(source) AS source
                          FROM rate_cards GROUP BY courier) r USING (courier)
            WHERE $1::text IS NULL OR c.courier > $1
            ORDER BY c.courier LIMIT $2""",
        after,
        limit,
    )
    return [dict(r) for r in rows]


async def serviceability_at(conn: Conn, pincode: str) -> dict[str, Serviceability]:
    """Every courier's serviceability at one pincode."""
    rows = await conn.fetch(
        """SELECT courier, pincode, prepaid, cod, reverse_pickup, pickup
             FROM serviceability WHERE pincode = $1""",
        pincode,
    )
    return {r["courier"]: Serviceability(**dict(r)) for r in rows}


async def rate_cards(conn: Conn) -> dict[tuple[str, Zone], RateCard]:
    """Every rate card, by (courier, zone)."""
    rows = await conn.fetch(
        """SELECT courier, zone, first_slab_grams, first_slab_paise, additional_slab_grams,
                  additional_slab_paise, cod_fixed_paise, cod_percent_bp, sla_days FROM rate_cards"""
    )
    cards = [RateCard(**{**dict(r), "zone": Zone(r["zone"])}) for r in rows]
    return {(c.courier, c.zone): c for c in cards}


async def upsert_pickup_location(conn: Conn, location: dict[str, str]) -> None:
    """Create or change a warehouse's pickup address (what the label prints as From)."""
    await conn.execute(
        """INSERT INTO pickup_locations (warehouse_code, name, line1, city, state, pincode, phone)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (warehouse_code) DO UPDATE
              SET name = $2, line1 = $3, city = $4, state = $5, pincode = $6, phone = $7,
                  updated_at = now()""",
        *(location[k] for k in ("warehouse_code", "name", "line1", "city", "state", "pincode", "phone")),
    )
    reference_changed(conn)


async def pickup_location(conn: Conn, warehouse_code: str) -> dict[str, Any] | None:
    """A warehouse's pickup address (name, line1, city, state, pincode, phone)."""
    row = await conn.fetchrow("SELECT * FROM pickup_locations WHERE warehouse_code = $1", warehouse_code)
    return dict(row) if row is not None else None


async def has_pickup_locations(conn: Conn) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pickup_locations)"))


async def dimensions(conn: Conn, skus: list[str]) -> dict[str, Dimensions]:
    """Recorded per-unit sizes of these SKUs (missing ones fall back to the default)."""
    rows = await conn.fetch(
        """SELECT sku, weight_grams, length_cm, breadth_cm, height_cm
             FROM sku_dimensions WHERE sku = ANY($1::text[])""",
        skus,
    )
    return {
        r["sku"]: Dimensions(
            weight_grams=r["weight_grams"],
            length_cm=float(r["length_cm"]),
            breadth_cm=float(r["breadth_cm"]),
            height_cm=float(r["height_cm"]),
        )
        for r in rows
    }


async def upsert_dimensions(conn: Conn, sku: str, barcode: str | None, dims: Dimensions) -> None:
    """Record a SKU's unit weight, size and barcode."""
    await conn.execute(
        """INSERT INTO sku_dimensions (sku, barcode, weight_grams, length_cm, breadth_cm, height_cm)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (sku) DO UPDATE SET barcode = $2, weight_grams = $3, length_cm = $4,
                                           breadth_cm = $5, height_cm = $6, updated_at = now()""",
        sku,
        barcode,
        dims.weight_grams,
        dims.length_cm,
        dims.breadth_cm,
        dims.height_cm,
    )
    reference_changed(conn)


async def sku_for_barcode(conn: Conn, barcode: str) -> str:
    """The SKU a scanned barcode stands for; a barcode nobody registered is read as the SKU itself."""
    sku = await conn.fetchval("SELECT sku FROM sku_dimensions WHERE barcode = $1", barcode)
    return str(sku) if sku is not None else barcode


# --- the reference data, cached in process -----------------------------------------------------

T = TypeVar("T")

_generation = 0
"""Bumped whenever reference data changed through this process (once the change has committed)."""
_writers: list[Any] = []
"""Connections that changed reference data and may not have committed yet."""


def reference_changed(conn: Any) -> None:
    """Reference data was written on ``conn``: caches drop what they hold once its transaction ends."""
    _writers.append(conn)


def _settle() -> int:
    """The current generation, after bumping it for every writer whose transaction has ended."""
    global _generation
    busy = []
    for conn in _writers:
        try:
            in_transaction = conn.is_in_transaction()
        except asyncpg.InterfaceError:  # released to the pool: its transaction is over
            in_transaction = False
        if in_transaction:
            busy.append(conn)
        else:
            _generation += 1
    _writers[:] = busy
    return _generation


class ReferenceCache:
    """Serviceability per pincode, SKU sizes per SKU, all rate cards and pickup addresses, as read by
    bookings. Everything is dropped after ``ttl_s`` (another replica's upload shows within that), and
    as soon as a change written through this module in this process has committed (the HTTP upload
    and the start-up load); a read that overlapped such a change is used once, never kept."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], Any] = {}
        self._generation = -1
        self._expires = 0.0

    def _fresh(self, ttl_s: float) -> int:
        """Drop everything if it is too old or reference data changed; the generation read now."""
        generation, now = _settle(), time.monotonic()
        if generation != self._generation or now >= self._expires:
            self._values.clear()
            self._generation, self._expires = generation, now + ttl_s
        return generation

    def _keep(self, generation: int, values: dict[tuple[str, str], Any]) -> None:
        """Keep what was read under ``generation`` unless a change has ended or begun since."""
        if _settle() == generation == self._generation and not _writers:
            self._values.update(values)

    async def _get(self, key: tuple[str, str], ttl_s: float, load: Callable[[], Awaitable[T]]) -> T:
        generation = self._fresh(ttl_s)
        if key in self._values:
            return self._values[key]  # type: ignore[no-any-return]
        value = await load()
        self._keep(generation, {key: value})
        return value

    async def serviceability_at(self, conn: Conn, pincode: str, *, ttl_s: float) -> dict[str, Serviceability]:
        """``serviceability_at``, cached."""
        return await self._get(("serviceability", pincode), ttl_s, lambda: serviceability_at(conn, pincode))

    async def rate_cards(self, conn: Conn, *, ttl_s: float) -> dict[tuple[str, Zone], RateCard]:
        """``rate_cards``, cached."""
        return await self._get(("rate_cards", ""), ttl_s, lambda: rate_cards(conn))

    async def pickup_location(
        self, conn: Conn, warehouse_code: str, *, ttl_s: float
    ) -> dict[str, Any] | None:
        """``pickup_location``, cached."""
        return await self._get(
            ("pickup_location", warehouse_code), ttl_s, lambda: pickup_location(conn, warehouse_code)
        )

    async def dimensions(self, conn: Conn, skus: list[str], *, ttl_s: float) -> dict[str, Dimensions]:
        """``dimensions``, cached per SKU (a SKU with no sizes on record is remembered as such)."""
        generation = self._fresh(ttl_s)
        sizes = {
            sku: self._values[("dimensions", sku)] for sku in skus if ("dimensions", sku) in self._values
        }
        if missing := [sku for sku in skus if sku not in sizes]:
            loaded = await dimensions(conn, missing)
            sizes |= {sku: loaded.get(sku) for sku in missing}
            self._keep(generation, {("dimensions", sku): sizes[sku] for sku in missing})
        return {sku: size for sku, size in sizes.items() if size is not None}


CACHE = ReferenceCache()
"""The process's cache (a shipping process serves one database)."""
