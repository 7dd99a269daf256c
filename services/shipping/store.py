"""SQL for shipments; plain asyncpg, one function per question or change. The reference data every
booking reads (serviceability, rate cards, pickup addresses, SKU sizes) is in reference.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

from chassis.db import Conn, Queryable, row_fields
from contracts import Address, ShipmentStatus
from services.shipping.couriers.interface import (
    Consignee,
    CourierBooking,
    CourierScan,
    NdrAction,
    NdrActionKind,
)
from services.shipping.domain import ShipmentPlan
from services.shipping.domain.allocation import PickupCapacity
from services.shipping.records import (
    EarlyNews,
    LateWarehouse,
    Manifest,
    NdrInstruction,
    PackStats,
    PendingNdrAction,
    PickupLoad,
    QuietShipment,
    Shipment,
    ShipmentDetail,
    ShipmentView,
    TrackingEvent,
)


def _shipment(row: asyncpg.Record | None) -> Shipment | None:
    return Shipment.of(row) if row is not None else None


def _shipments(rows: list[asyncpg.Record]) -> list[Shipment]:
    return [Shipment.of(row) for row in rows]


async def insert_shipment(
    conn: Conn,
    *,
    shipment_id: str,
    order_id: str,
    plan: ShipmentPlan,
    cause_event_id: str,
    dispatch_by: datetime | None,
    marketplace: str | None = None,
) -> bool:
    """Store a new CREATED shipment; False if this order already has one from this warehouse.
    ``marketplace``: the marketplace whose own logistics carry it (never booked with our couriers)."""
    status = await conn.execute(
        """INSERT INTO shipments (shipment_id, order_id, warehouse_code, status, lines,
                                  value_paise, cod_amount_paise, cause_event_id, dispatch_by, marketplace,
                                  courier)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $10)
           ON CONFLICT (order_id, warehouse_code) WHERE return_id IS NULL DO NOTHING""",
        shipment_id,
        order_id,
        plan.warehouse_code,
        ShipmentStatus.CREATED.value,
        [line.model_dump() for line in plan.lines],
        plan.value_paise,
        plan.cod_amount_paise,
        cause_event_id,
        dispatch_by,
        marketplace,
    )
    return bool(status == "INSERT 0 1")


async def insert_reverse_pickup(
    conn: Conn,
    *,
    shipment_id: str,
    order_id: str,
    return_id: str,
    warehouse_code: str,
    lines: list[dict[str, Any]],
    cause_event_id: str,
) -> bool:
    """Store a new CREATED reverse pickup; False if this return already has one."""
    status = await conn.execute(
        """INSERT INTO shipments (shipment_id, order_id, warehouse_code, status, lines, value_paise,
                                  cod_amount_paise, cause_event_id, return_id)
           VALUES ($1, $2, $3, 'CREATED', $4::jsonb, 0, 0, $5, $6)
           ON CONFLICT (return_id) WHERE return_id IS NOT NULL DO NOTHING""",
        shipment_id,
        order_id,
        warehouse_code,
        lines,
        cause_event_id,
        return_id,
    )
    return bool(status == "INSERT 0 1")


async def forward_consignee(conn: Conn, order_id: str) -> Consignee | None:
    """Who received the order's parcels: where a return is picked up when the return names no address."""
    raw = await conn.fetchval(
        """SELECT consignee FROM shipments
            WHERE order_id = $1 AND return_id IS NULL AND consignee IS NOT NULL
            ORDER BY created_at LIMIT 1""",
        order_id,
    )
    return None if raw is None else Consignee.stored(raw)


async def assign_awb(
    conn: Conn,
    *,
    shipment_id: str,
    courier: str,
    awb: str,
    status: ShipmentStatus,
) -> None:
    """Record the courier's AWB and the status it brings."""
    await conn.execute(
        """UPDATE shipments
              SET courier = $2, awb = $3, status = $4, booking_error = NULL, updated_at = now()
            WHERE shipment_id = $1""",
        shipment_id,
        courier,
        awb,
        status.value,
    )


async def record_booking_error(conn: Conn, *, shipment_id: str, courier: str, error: str) -> None:
    """Keep the courier's refusal on the shipment so an operator can fix and re-book it."""
    await conn.execute(
        """UPDATE shipments SET courier = $2, booking_error = $3, updated_at = now()
            WHERE shipment_id = $1""",
        shipment_id,
        courier,
        error,
    )


_COLUMNS = """shipment_id, order_id, warehouse_code, status, courier, awb, lines, value_paise,
              cod_amount_paise, booking_error, created_at, updated_at, allocation, booking_attempts,
              routing_code, chargeable_grams, package_grams, priority, dispatch_by, pickup_date,
              ndr_attempts, ndr_reason, return_id, manifest_id, packed_by, packed_at, consignee,
              marketplace, picked_by, picked_at"""


async def list_for_order(
    pool: asyncpg.Pool, order_id: str, *, after: str | None, limit: int
) -> list[ShipmentView]:
    """A page of an order's shipments by shipment id, after the shipment `after`."""
    rows = await pool.fetch(
        f"""SELECT {_COLUMNS} FROM shipments
             WHERE order_id = $1 AND ($2::text IS NULL OR shipment_id > $2)
             ORDER BY shipment_id LIMIT $3""",
        order_id,
        after,
        limit,
    )
    return [ShipmentView.of(r) for r in rows]


async def shipment_detail(pool: asyncpg.Pool, shipment_id: str) -> ShipmentDetail | None:
    """One shipment with its tracking history and NDR instructions, or None."""
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM shipments WHERE shipment_id = $1", shipment_id)
    if row is None:
        return None
    tracking = await pool.fetch(
        """SELECT courier_code, status, occurred_at, location, ndr_reason, remark, applied, source
             FROM tracking_events WHERE shipment_id = $1 ORDER BY occurred_at, id""",
        shipment_id,
    )
    ndr_actions = await pool.fetch(
        """SELECT attempt, action, reattempt_on, new_phone, actor, state, error, created_at, sent_at
             FROM ndr_actions WHERE shipment_id = $1 ORDER BY attempt""",
        shipment_id,
    )
    return ShipmentDetail(
        **row_fields(
            ShipmentDetail,
            row,
            lines=tuple(row["lines"]),
            booking_attempts=tuple(row["booking_attempts"]),
            tracking=tuple(TrackingEvent.of(r) for r in tracking),
            ndr_actions=tuple(NdrInstruction.of(r) for r in ndr_actions),
        )
    )


# --- allocation and booking ---------------------------------------------------------------------


async def save_booking(
    conn: Conn,
    *,
    shipment_id: str,
    consignee: Consignee,
    allocation: dict[str, Any] | None,
    attempts: list[dict[str, str]],
    chargeable_grams: int | None,
    priority: int,
    booking: CourierBooking | None,
    error: str | None,
    pickup_date: date | None = None,
) -> None:
    """Store the allocation and every booking attempt; with a booking, its courier, AWB, routing code
    and the day the courier is to collect it."""
    await conn.execute(
        """UPDATE shipments
              SET consignee = $2::jsonb, allocation = $3::jsonb, booking_attempts = $4::jsonb,
                  chargeable_grams = $5, priority = $6,
                  courier = coalesce($7, courier), awb = coalesce($8, awb), routing_code = $9,
                  courier_ref = $11,
                  pickup_date = CASE WHEN $8::text IS NULL THEN pickup_date ELSE $12::date END,
                  status = CASE WHEN $8::text IS NULL THEN status ELSE 'AWB_ASSIGNED' END,
                  booking_error = $10, updated_at = now()
            WHERE shipment_id = $1""",
        shipment_id,
        consignee.to_store(),
        allocation,
        attempts,
        chargeable_grams,
        priority,
        booking.courier if booking else None,
        booking.awb if booking else None,
        booking.routing_code if booking else None,
        error,
        booking.courier_ref if booking else None,
        pickup_date,
    )


# --- courier pickup capacity --------------------------------------------------------------------

# Parcels a courier is to collect: forward shipments it took (an AWB), not cancelled, for that day.
_BOOKED_PICKUPS = """SELECT count(*) FROM shipments s
    WHERE s.courier = $1 AND s.warehouse_code = $2 AND s.pickup_date = $3 AND s.return_id IS NULL
      AND s.awb IS NOT NULL AND s.status <> 'CANCELLED' AND s.shipment_id <> $4"""


async def pickup_capacities(
    conn: Conn, *, warehouse_code: str, pickup_date: date, shipment_id: str
) -> list[PickupCapacity]:
    """Every courier's confirmed capacity at this warehouse that day, with what is booked against it
    (not counting ``shipment_id``, the parcel being booked)."""
    rows = await conn.fetch(
        """SELECT c.courier, c.parcels,
                  (SELECT count(*) FROM shipments s
                    WHERE s.courier = c.courier AND s.warehouse_code = $1 AND s.pickup_date = $2
                      AND s.return_id IS NULL AND s.awb IS NOT NULL AND s.status <> 'CANCELLED'
                      AND s.shipment_id <> $3) AS booked
             FROM pickup_capacity c
            WHERE c.warehouse_code = $1 AND c.pickup_date = $2""",
        warehouse_code,
        pickup_date,
        shipment_id,
    )
    return [PickupCapacity(r["courier"], pickup_date, r["parcels"], r["booked"]) for r in rows]


async def claim_pickup(
    conn: Conn, *, courier: str, warehouse_code: str, pickup_date: date, shipment_id: str
) -> PickupCapacity | None:
    """Lock the courier's capacity row for the day and count what is booked; None when the courier's
    pickups are not limited there. The lock is held until the transaction ends, so two bookings
    never both take the last place (the count runs after the lock, on a fresh snapshot)."""
    parcels = await conn.fetchval(
        """SELECT parcels FROM pickup_capacity
            WHERE courier = $1 AND warehouse_code = $2 AND pickup_date = $3 FOR UPDATE""",
        courier,
        warehouse_code,
        pickup_date,
    )
    if parcels is None:
        return None
    booked = await conn.fetchval(_BOOKED_PICKUPS, courier, warehouse_code, pickup_date, shipment_id)
    return PickupCapacity(courier, pickup_date, parcels, booked)


async def set_pickup_capacity(
    conn: Conn,
    *,
    courier: str,
    warehouse_code: str,
    pickup_date: date,
    parcels: int,
    confirmation_ref: str | None,
    actor: str,
) -> None:
    """Create or change a courier's confirmed capacity at a warehouse on a day."""
    await conn.execute(
        """INSERT INTO pickup_capacity (courier, warehouse_code, pickup_date, parcels, confirmation_ref,
                                        updated_by)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (courier, warehouse_code, pickup_date) DO UPDATE
              SET parcels = EXCLUDED.parcels, confirmation_ref = EXCLUDED.confirmation_ref,
                  updated_by = EXCLUDED.updated_by, updated_at = now()""",
        courier,
        warehouse_code,
        pickup_date,
        parcels,
        confirmation_ref,
        actor,
    )


async def pickups_on(conn: Queryable, *, pickup_date: date, warehouse_code: str | None) -> list[PickupLoad]:
    """Per courier × warehouse on a day: parcels booked for pickup against the confirmed capacity
    (None where none was confirmed)."""
    rows = await conn.fetch(
        """WITH booked AS (
               SELECT courier, warehouse_code, count(*) AS booked FROM shipments
                WHERE pickup_date = $1 AND return_id IS NULL AND awb IS NOT NULL AND status <> 'CANCELLED'
                GROUP BY courier, warehouse_code)
           SELECT courier, warehouse_code, coalesce(b.booked, 0) AS booked, c.parcels AS capacity,
                  c.confirmation_ref
             FROM booked b
             FULL JOIN (SELECT * FROM pickup_capacity WHERE pickup_date = $1) c
                  USING (courier, warehouse_code)
            WHERE $2::text IS NULL OR warehouse_code = $2
            ORDER BY warehouse_code, courier""",
        pickup_date,
        warehouse_code,
    )
    return [PickupLoad(**row_fields(PickupLoad, r)) for r in rows]


# --- tracking -----------------------------------------------------------------------------------


async def lock_by_awb(conn: Conn, courier: str, awb: str) -> Shipment | None:
    """The shipment with this AWB, locked for the transaction (scans of one parcel apply one by one)."""
    return _shipment(
        await conn.fetchrow(
            "SELECT * FROM shipments WHERE courier = $1 AND awb = $2 FOR UPDATE", courier, awb
        )
    )


async def record_scan(conn: Conn, *, shipment_id: str, scan: CourierScan, applied: bool, source: str) -> bool:
    """Keep the scan; False when this exact scan was recorded before (a repeat push or poll)."""
    status = await conn.execute(
        """INSERT INTO tracking_events (shipment_id, courier_code, status, occurred_at, location,
                                        ndr_reason, remark, applied, source)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT ON CONSTRAINT tracking_events_once DO NOTHING""",
        shipment_id,
        scan.code,
        scan.status.value if scan.status else None,
        scan.occurred_at,
        scan.location,
        scan.ndr_reason.value if scan.ndr_reason else None,
        scan.remark,
        applied,
        source,
    )
    return bool(status == "INSERT 0 1")


async def apply_change(
    conn: Conn,
    *,
    shipment_id: str,
    status: ShipmentStatus,
    occurred_at: datetime,
    ndr_attempts: int | None,
    ndr_reason: str | None,
) -> None:
    """Move a shipment to a new status at the courier's time of the scan."""
    await conn.execute(
        """UPDATE shipments
              SET status = $2, last_change_at = $3, tracked_at = now(), updated_at = now(),
                  ndr_attempts = coalesce($4, ndr_attempts), ndr_reason = coalesce($5, ndr_reason)
            WHERE shipment_id = $1""",
        shipment_id,
        status.value,
        occurred_at,
        ndr_attempts,
        ndr_reason,
    )


async def touch_tracked(conn: Conn, shipment_id: str) -> None:
    """We heard from the courier, even if nothing changed."""
    await conn.execute("UPDATE shipments SET tracked_at = now() WHERE shipment_id = $1", shipment_id)


async def set_status(conn: Conn, shipment_id: str, status: ShipmentStatus, **fields: Any) -> None:
    """Our own status changes (pick, pack, manifest, cancel) and the columns that go with them."""
    allowed = {"package_grams", "packed_by", "packed_at", "manifest_id", "picked_by", "picked_at"}
    assert set(fields) <= allowed
    sets = "".join(f", {name} = ${i}" for i, name in enumerate(fields, start=3))
    await conn.execute(
        f"UPDATE shipments SET status = $2, updated_at = now(){sets} WHERE shipment_id = $1",
        shipment_id,
        status.value,
        *fields.values(),
    )


async def quiet_shipments(conn: Conn, *, quiet_s: float, limit: int) -> list[QuietShipment]:
    """Shipments on the road we have not heard about for ``quiet_s``, claimed for this poller."""
    rows = await conn.fetch(
        """SELECT shipment_id, courier, awb FROM shipments
            WHERE awb IS NOT NULL AND marketplace IS NULL
              AND status NOT IN ('CREATED', 'DELIVERED', 'RTO_DELIVERED', 'LOST', 'CANCELLED')
              AND coalesce(tracked_at, created_at) < now() - make_interval(secs => $1)
            ORDER BY coalesce(tracked_at, created_at)
            LIMIT $2
            FOR UPDATE SKIP LOCKED""",
        quiet_s,
        limit,
    )
    return [QuietShipment(**row_fields(QuietShipment, r)) for r in rows]


# --- NDR ----------------------------------------------------------------------------------------


async def add_ndr_action(
    conn: Conn,
    *,
    shipment_id: str,
    attempt: int,
    action: NdrAction,
    actor: str,
) -> bool:
    """Queue an instruction for the courier; False if this attempt already has one."""
    status = await conn.execute(
        """INSERT INTO ndr_actions (shipment_id, attempt, action, reattempt_on, new_phone, new_address, actor)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
           ON CONFLICT ON CONSTRAINT ndr_actions_one_per_attempt DO NOTHING""",
        shipment_id,
        attempt,
        action.kind.value,
        action.reattempt_on,
        action.new_phone,
        action.new_address.model_dump(mode="json") if action.new_address else None,
        actor,
    )
    return bool(status == "INSERT 0 1")


async def pending_ndr_actions(conn: Conn, limit: int = 50) -> list[PendingNdrAction]:
    """Instructions not yet accepted by the courier, claimed for this sender."""
    rows = await conn.fetch(
        """SELECT a.*, s.courier, s.awb FROM ndr_actions a JOIN shipments s USING (shipment_id)
            WHERE a.state = 'pending' ORDER BY a.id LIMIT $1 FOR UPDATE OF a SKIP LOCKED""",
        limit,
    )
    return [_pending_ndr_action(r) for r in rows]


def _pending_ndr_action(row: asyncpg.Record) -> PendingNdrAction:
    address = row["new_address"]
    instruction = NdrAction(
        kind=NdrActionKind(row["action"]),
        reattempt_on=row["reattempt_on"],
        new_phone=row["new_phone"],
        new_address=None if address is None else Address.model_validate(address),
    )
    return PendingNdrAction(**row_fields(PendingNdrAction, row, action=instruction))


async def finish_ndr_action(conn: Conn, action_id: int, *, error: str | None, give_up: bool) -> None:
    """Sent, or failed once more (given up after too many tries)."""
    await conn.execute(
        """UPDATE ndr_actions
              SET state = CASE WHEN $2::text IS NULL THEN 'sent' WHEN $3 THEN 'failed' ELSE 'pending' END,
                  error = $2, tries = tries + 1, sent_at = CASE WHEN $2::text IS NULL THEN now() END
            WHERE id = $1""",
        action_id,
        error,
        give_up,
    )


async def find_shipment(conn: Queryable, shipment_id: str) -> Shipment | None:
    """One shipment, as it stands."""
    return _shipment(await conn.fetchrow("SELECT * FROM shipments WHERE shipment_id = $1", shipment_id))


async def set_marketplace_awb(conn: Conn, shipment_id: str, awb: str, status: ShipmentStatus) -> None:
    """The AWB the marketplace's own logistics gave a parcel it carries: booked, under its label
    (AWB_ASSIGNED when it had not been picked yet; a picked or packed parcel keeps its status)."""
    await conn.execute(
        "UPDATE shipments SET awb = $2, status = $3, updated_at = now() WHERE shipment_id = $1",
        shipment_id,
        awb,
        status.value,
    )


async def lock_shipment(conn: Conn, shipment_id: str) -> Shipment | None:
    """One shipment, locked for the transaction."""
    return _shipment(
        await conn.fetchrow("SELECT * FROM shipments WHERE shipment_id = $1 FOR UPDATE", shipment_id)
    )


async def lock_for_order(conn: Conn, order_id: str) -> list[Shipment]:
    """An order's shipments, locked for the transaction."""
    return _shipments(
        await conn.fetch(
            "SELECT * FROM shipments WHERE order_id = $1 ORDER BY warehouse_code FOR UPDATE", order_id
        )
    )


# --- pick, pack, manifest -----------------------------------------------------------------------


_WAITING_TO_PICK = """SELECT * FROM shipments
            WHERE warehouse_code = $1 AND return_id IS NULL
              AND (status = 'AWB_ASSIGNED' OR (status = 'CREATED' AND marketplace IS NOT NULL))
              AND ($3::text[] IS NULL OR shipment_id = ANY($3::text[]))
            ORDER BY dispatch_by NULLS LAST, priority DESC, created_at, shipment_id
            LIMIT $2"""


async def waiting_to_pick(
    conn: Conn, warehouse_code: str, limit: int, only: list[str] | None = None
) -> list[Shipment]:
    """Booked forward shipments of a warehouse not yet picked, due first then most urgent, claimed;
    a parcel a marketplace carries is picked before its AWB (its label follows our invoice, ADR 370).
    With `only`, just those of these shipments that still wait (the ones a preview showed)."""
    return _shipments(
        await conn.fetch(_WAITING_TO_PICK + " FOR UPDATE SKIP LOCKED", warehouse_code, limit, only)
    )


async def pick_preview(conn: Queryable, warehouse_code: str, limit: int) -> list[Shipment]:
    """The same shipments in the same order, read only: nothing is claimed or changed."""
    return _shipments(await conn.fetch(_WAITING_TO_PICK, warehouse_code, limit, None))


LATE_TO_DISPATCH = ("CREATED", "AWB_ASSIGNED", "PICKED", "PACKED", "MANIFESTED")
"""A forward shipment in one of these is still in the warehouse (not yet picked up by the courier)."""


async def late_to_dispatch(
    conn: Queryable, *, now: datetime, warehouse_code: str | None
) -> list[LateWarehouse]:
    """Per warehouse: forward shipments still in the warehouse past their dispatch-by, and the oldest
    promise among them."""
    rows = await conn.fetch(
        """SELECT warehouse_code, count(*) AS late, min(dispatch_by) AS oldest_dispatch_by
             FROM shipments
            WHERE return_id IS NULL AND status = ANY($1::text[]) AND dispatch_by < $2
              AND ($3::text IS NULL OR warehouse_code = $3)
            GROUP BY warehouse_code
            ORDER BY warehouse_code""",
        list(LATE_TO_DISPATCH),
        now,
        warehouse_code,
    )
    return [LateWarehouse(**row_fields(LateWarehouse, r)) for r in rows]


async def record_pack_scan(
    conn: Conn, *, shipment_id: str, barcode: str, sku: str, outcome: str, actor: str
) -> None:
    await conn.execute(
        """INSERT INTO pack_scans (shipment_id, barcode, sku, outcome, actor) VALUES ($1, $2, $3, $4, $5)""",
        shipment_id,
        barcode,
        sku,
        outcome,
        actor,
    )


async def in_box(conn: Conn, shipment_id: str) -> list[str]:
    """SKUs of the units accepted into the box so far, one entry per unit."""
    rows = await conn.fetch(
        "SELECT sku FROM pack_scans WHERE shipment_id = $1 AND outcome = 'ok' ORDER BY id", shipment_id
    )
    return [r["sku"] for r in rows]


async def pack_stats(pool: asyncpg.Pool, warehouse_code: str | None) -> PackStats:
    """Scans, refused scans and shipments with a packing mistake caught, per warehouse (or all)."""
    row = await pool.fetchrow(
        """SELECT count(*) AS scans,
                  count(*) FILTER (WHERE p.outcome = 'wrong_item') AS wrong_items,
                  count(*) FILTER (WHERE p.outcome = 'extra_item') AS extra_items,
                  count(DISTINCT p.shipment_id) AS shipments_scanned,
                  count(DISTINCT p.shipment_id) FILTER (WHERE p.outcome <> 'ok') AS shipments_with_errors
             FROM pack_scans p JOIN shipments s USING (shipment_id)
            WHERE $1::text IS NULL OR s.warehouse_code = $1""",
        warehouse_code,
    )
    assert row is not None, "an aggregate always returns a row"
    return PackStats(**row_fields(PackStats, row))


async def manifestable(conn: Conn, warehouse_code: str, courier: str) -> list[Shipment]:
    """Packed parcels of one warehouse for one courier not on a manifest yet, claimed."""
    rows = await conn.fetch(
        """SELECT * FROM shipments
            WHERE warehouse_code = $1 AND courier = $2 AND status = 'PACKED' AND manifest_id IS NULL
            ORDER BY created_at
            FOR UPDATE SKIP LOCKED""",
        warehouse_code,
        courier,
    )
    return _shipments(rows)


async def insert_manifest(
    conn: Conn,
    *,
    manifest_id: str,
    courier: str,
    warehouse_code: str,
    pickup_date: date,
    actor: str,
    pickup_ref: str,
) -> None:
    """A manifest, with the courier's reference for the pickup it booked."""
    await conn.execute(
        """INSERT INTO manifests (manifest_id, courier, warehouse_code, pickup_date, created_by, pickup_ref)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        manifest_id,
        courier,
        warehouse_code,
        pickup_date,
        actor,
        pickup_ref,
    )


async def get_manifest(pool: asyncpg.Pool, manifest_id: str) -> tuple[Manifest | None, list[Shipment]]:
    """A manifest and its parcels."""
    head = await pool.fetchrow("SELECT * FROM manifests WHERE manifest_id = $1", manifest_id)
    rows = await pool.fetch(
        "SELECT * FROM shipments WHERE manifest_id = $1 ORDER BY created_at, shipment_id", manifest_id
    )
    return None if head is None else Manifest(**row_fields(Manifest, head)), _shipments(rows)


async def unbooked(conn: Conn, *, older_than_s: float, limit: int) -> list[Shipment]:
    """Shipments no courier took, last tried more than ``older_than_s`` ago, claimed for a retry."""
    rows = await conn.fetch(
        """SELECT * FROM shipments
            WHERE status = 'CREATED' AND booking_error IS NOT NULL AND consignee IS NOT NULL
              AND marketplace IS NULL
              AND created_at > now() - interval '7 days'
              AND updated_at < now() - make_interval(secs => $1)
            ORDER BY updated_at
            LIMIT $2
            FOR UPDATE SKIP LOCKED""",
        older_than_s,
        limit,
    )
    return _shipments(rows)


# --- contact corrections ------------------------------------------------------------------------


async def set_consignee(conn: Conn, shipment_id: str, consignee: Consignee) -> None:
    """A corrected name, phone or address: what the next booking, the label and NDR edits use."""
    await conn.execute(
        "UPDATE shipments SET consignee = $2::jsonb, updated_at = now() WHERE shipment_id = $1",
        shipment_id,
        consignee.to_store(),
    )


async def add_replaced_awb(conn: Conn, shipment_id: str, awb: str) -> int:
    """Keep an AWB the shipment is giving up; how many it has given up so far."""
    count = await conn.fetchval(
        """UPDATE shipments SET replaced_awbs = replaced_awbs || jsonb_build_array($2::text)
            WHERE shipment_id = $1
        RETURNING jsonb_array_length(replaced_awbs)""",
        shipment_id,
        awb,
    )
    return int(count)


# --- news about an order that overtakes its confirmation ------------------------------------------


async def lock_order(conn: Conn, order_id: str) -> None:
    """Serialise, for the transaction, the handlers that make or change an order's shipments
    (confirmed, cancelled, contact corrected): whichever comes second sees what the first did."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('shipping.order:' || $1))", order_id)


async def remember_cancelled(conn: Conn, order_id: str, at: datetime) -> None:
    """An order cancelled before its shipments exist: its confirmation, if it comes, books nothing."""
    await conn.execute(
        """INSERT INTO early_order_news (order_id, cancelled_at) VALUES ($1, $2)
           ON CONFLICT (order_id) DO UPDATE
              SET cancelled_at = LEAST(COALESCE(early_order_news.cancelled_at, EXCLUDED.cancelled_at),
                                       EXCLUDED.cancelled_at)""",
        order_id,
        at,
    )


async def remember_correction(conn: Conn, order_id: str, consignee: Consignee, at: datetime) -> None:
    """A correction made before the order's shipments exist; the newest correction wins."""
    await conn.execute(
        """INSERT INTO early_order_news (order_id, consignee, corrected_at) VALUES ($1, $2::jsonb, $3)
           ON CONFLICT (order_id) DO UPDATE
              SET consignee = EXCLUDED.consignee, corrected_at = EXCLUDED.corrected_at
            WHERE early_order_news.corrected_at IS NULL
               OR early_order_news.corrected_at <= EXCLUDED.corrected_at""",
        order_id,
        consignee.to_store(),
        at,
    )


async def early_news(conn: Conn, order_id: str) -> EarlyNews | None:
    """What was heard about this order before its confirmation, if anything."""
    row = await conn.fetchrow(
        "SELECT cancelled_at, consignee FROM early_order_news WHERE order_id = $1", order_id
    )
    if row is None:
        return None
    kept = row["consignee"]
    return EarlyNews(
        cancelled_at=row["cancelled_at"], consignee=None if kept is None else Consignee.stored(kept)
    )
