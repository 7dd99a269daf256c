"""SQL of the invoicing service: registrations, tax classes, the order and shipment read model, the
series, invoices, credit requests and credit notes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from chassis.db import Conn, Queryable
from contracts import OrderPlaced
from contracts.values import Address, Customer, SkuQuantity
from services.invoicing.records import (
    CreditNote,
    CreditRequest,
    EInvoice,
    EInvoiceState,
    Invoice,
    Order,
    Registration,
    Shipment,
    TaxClass,
    WarehouseRegistration,
)

# registrations and tax classes ------------------------------------------------------------------


async def upsert_registration(
    conn: Conn,
    *,
    gstin: str,
    legal_name: str,
    trade_name: str | None,
    address: str,
    turnover_band: str,
    actor: str,
    city: str | None = None,
    pincode: str | None = None,
) -> None:
    """Create or replace a registration (its state is the GSTIN's first two digits)."""
    await conn.execute(
        """INSERT INTO registrations
               (gstin, legal_name, trade_name, address, state_code, turnover_band, updated_by, city, pincode)
           VALUES ($1, $2, $3, $4, left($1, 2), $5, $6, $7, $8)
           ON CONFLICT (gstin) DO UPDATE SET legal_name = EXCLUDED.legal_name,
               trade_name = EXCLUDED.trade_name, address = EXCLUDED.address,
               turnover_band = EXCLUDED.turnover_band, updated_by = EXCLUDED.updated_by,
               city = EXCLUDED.city, pincode = EXCLUDED.pincode, updated_at = now()""",
        gstin,
        legal_name,
        trade_name,
        address,
        turnover_band,
        actor,
        city,
        pincode,
    )


async def registration(conn: Queryable, gstin: str) -> Registration | None:
    """One registration, or None."""
    row = await conn.fetchrow("SELECT * FROM registrations WHERE gstin = $1", gstin)
    return None if row is None else Registration.of(row)


async def registrations(conn: Queryable, *, after: str | None, limit: int) -> list[Registration]:
    """Registrations by GSTIN, a page at a time."""
    rows = await conn.fetch(
        "SELECT * FROM registrations WHERE ($1::text IS NULL OR gstin > $1) ORDER BY gstin LIMIT $2",
        after,
        limit,
    )
    return [Registration.of(r) for r in rows]


async def set_warehouse_registration(
    conn: Conn, *, warehouse_code: str, gstin: str, actor: str
) -> WarehouseRegistration:
    """Name the registration a warehouse ships under."""
    row = await conn.fetchrow(
        """INSERT INTO warehouse_registrations (warehouse_code, gstin, updated_by) VALUES ($1, $2, $3)
           ON CONFLICT (warehouse_code) DO UPDATE SET gstin = EXCLUDED.gstin,
               updated_by = EXCLUDED.updated_by, updated_at = now()
           RETURNING *""",
        warehouse_code,
        gstin,
        actor,
    )
    assert row is not None
    return WarehouseRegistration.of(row)


async def warehouse_registrations(
    conn: Queryable, *, after: str | None, limit: int
) -> list[WarehouseRegistration]:
    """Warehouses and their GSTINs by code, a page at a time."""
    rows = await conn.fetch(
        """SELECT * FROM warehouse_registrations WHERE ($1::text IS NULL OR warehouse_code > $1)
           ORDER BY warehouse_code LIMIT $2""",
        after,
        limit,
    )
    return [WarehouseRegistration.of(r) for r in rows]


async def warehouse_registration(conn: Queryable, warehouse_code: str) -> Registration | None:
    """The registration a warehouse ships under, or None when nobody said."""
    row = await conn.fetchrow(
        """SELECT r.* FROM warehouse_registrations w JOIN registrations r USING (gstin)
           WHERE w.warehouse_code = $1""",
        warehouse_code,
    )
    return None if row is None else Registration.of(row)


async def upsert_tax_class(
    conn: Conn, *, sku: str, description: str, hsn_code: str, gst_rate: Decimal, unit: str, actor: str
) -> None:
    """Create or replace one SKU's tax class."""
    await conn.execute(
        """INSERT INTO tax_classes (sku, description, hsn_code, gst_rate, unit, updated_by)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (sku) DO UPDATE SET description = EXCLUDED.description,
               hsn_code = EXCLUDED.hsn_code, gst_rate = EXCLUDED.gst_rate, unit = EXCLUDED.unit,
               updated_by = EXCLUDED.updated_by, updated_at = now()""",
        sku,
        description,
        hsn_code,
        gst_rate,
        unit,
        actor,
    )


async def tax_class(conn: Queryable, sku: str) -> TaxClass | None:
    """One SKU's tax class, or None."""
    row = await conn.fetchrow("SELECT * FROM tax_classes WHERE sku = $1", sku)
    return None if row is None else TaxClass.of(row)


async def tax_class_page(conn: Queryable, *, after: str | None, limit: int) -> list[TaxClass]:
    """Tax classes by SKU, a page at a time."""
    rows = await conn.fetch(
        "SELECT * FROM tax_classes WHERE ($1::text IS NULL OR sku > $1) ORDER BY sku LIMIT $2",
        after,
        limit,
    )
    return [TaxClass.of(r) for r in rows]


async def tax_classes(conn: Queryable, skus: list[str]) -> dict[str, TaxClass]:
    """SKU → its tax class, for the SKUs that have one."""
    rows = await conn.fetch("SELECT * FROM tax_classes WHERE sku = ANY($1::text[])", skus)
    return {r["sku"]: TaxClass.of(r) for r in rows}


# the order and shipment read model ----------------------------------------------------------------


async def record_order(conn: Conn, event: OrderPlaced) -> None:
    """Keep what an invoice needs of a placed order (a replay changes nothing)."""
    await conn.execute(
        """INSERT INTO orders (order_id, channel, channel_order_id, placed_at, customer,
               shipping_address, lines, shipping_fee_paise, discount_paise, rehearsal)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (order_id) DO NOTHING""",
        event.order_id,
        event.channel.value,
        event.channel_order_id,
        event.placed_at,
        event.customer.model_dump(mode="json"),
        event.shipping_address.model_dump(mode="json"),
        [x.model_dump(mode="json") for x in event.lines],
        event.shipping_fee_paise,
        event.discount_paise,
        event.rehearsal,
    )


async def correct_contact(conn: Conn, *, order_id: str, customer: Customer, address: Address) -> None:
    """An operator's correction of the name, phone or address before pickup."""
    await conn.execute(
        "UPDATE orders SET customer = $2, shipping_address = $3 WHERE order_id = $1",
        order_id,
        customer.model_dump(mode="json"),
        address.model_dump(mode="json"),
    )


async def order(conn: Queryable, order_id: str) -> Order | None:
    """One order as invoicing knows it."""
    row = await conn.fetchrow("SELECT * FROM orders WHERE order_id = $1", order_id)
    return None if row is None else Order.of(row)


async def record_shipment(
    conn: Conn, *, shipment_id: str, order_id: str, warehouse_code: str, lines: list[SkuQuantity]
) -> None:
    """A forward parcel and its lines (its status may have arrived first, on its own topic)."""
    await conn.execute(
        """INSERT INTO shipments (shipment_id, order_id, warehouse_code, lines) VALUES ($1, $2, $3, $4)
           ON CONFLICT (shipment_id) DO UPDATE SET lines = EXCLUDED.lines, updated_at = now()""",
        shipment_id,
        order_id,
        warehouse_code,
        [x.model_dump(mode="json") for x in lines],
    )


async def mark_packed(
    conn: Conn, *, shipment_id: str, order_id: str, warehouse_code: str, at: datetime
) -> bool:
    """The parcel is packed (or further): its invoice is due. False when it already was."""
    row = await conn.fetchrow(
        """INSERT INTO shipments (shipment_id, order_id, warehouse_code, packed_at, invoice_state)
           VALUES ($1, $2, $3, $4, 'due')
           ON CONFLICT (shipment_id) DO UPDATE SET packed_at = EXCLUDED.packed_at,
               invoice_state = 'due', updated_at = now()
               WHERE shipments.invoice_state = 'none'
           RETURNING shipment_id""",
        shipment_id,
        order_id,
        warehouse_code,
        at,
    )
    return row is not None


async def void_shipment(conn: Conn, *, shipment_id: str, order_id: str, warehouse_code: str) -> str:
    """A cancelled parcel: nothing to invoice unless it already was. Its invoice_state before."""
    before = await conn.fetchval(
        "SELECT invoice_state FROM shipments WHERE shipment_id = $1 FOR UPDATE", shipment_id
    )
    if before is None:
        await conn.execute(
            """INSERT INTO shipments (shipment_id, order_id, warehouse_code, invoice_state)
               VALUES ($1, $2, $3, 'void')""",
            shipment_id,
            order_id,
            warehouse_code,
        )
        return "none"
    if before in ("none", "due"):
        await conn.execute(
            """UPDATE shipments SET invoice_state = 'void', problem = NULL, updated_at = now()
               WHERE shipment_id = $1""",
            shipment_id,
        )
    return str(before)


async def shipment_for_update(conn: Conn, shipment_id: str) -> Shipment | None:
    """A shipment, locked until the transaction ends (one issuer at a time per parcel)."""
    row = await conn.fetchrow("SELECT * FROM shipments WHERE shipment_id = $1 FOR UPDATE", shipment_id)
    return None if row is None else Shipment.of(row)


async def set_invoice_state(conn: Conn, shipment_id: str, state: str, problem: str | None = None) -> None:
    """Where the shipment's invoice stands now."""
    await conn.execute(
        "UPDATE shipments SET invoice_state = $2, problem = $3, updated_at = now() WHERE shipment_id = $1",
        shipment_id,
        state,
        problem,
    )


async def due_shipments(conn: Conn, *, limit: int) -> list[str]:
    """Shipments packed but not invoiced, oldest first, skipping those another replica holds."""
    rows = await conn.fetch(
        """SELECT shipment_id FROM shipments WHERE invoice_state = 'due'
           ORDER BY packed_at LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )
    return [r["shipment_id"] for r in rows]


async def shipping_fee_invoiced(conn: Queryable, order_id: str) -> bool:
    """Whether an invoice of this order that stands (not cancelled) already carries its shipping fee."""
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM invoices WHERE order_id = $1 AND status = 'issued'
                                 AND shipping_fee_paise > 0)""",
            order_id,
        )
    )


# the series -------------------------------------------------------------------------------------


async def next_serial(conn: Conn, *, gstin: str, kind: str, financial_year: int) -> int:
    """The next serial of a series, taken inside the caller's transaction: the row stays locked until
    it ends, so a concurrent issuer waits and takes the one after; a rollback gives it back."""
    return int(
        await conn.fetchval(
            """INSERT INTO series (gstin, kind, financial_year, last_serial) VALUES ($1, $2, $3, 1)
               ON CONFLICT (gstin, kind, financial_year)
               DO UPDATE SET last_serial = series.last_serial + 1
               RETURNING last_serial""",
            gstin,
            kind,
            financial_year,
        )
    )


# invoices ---------------------------------------------------------------------------------------

_INVOICE_COLUMNS = (
    "invoice_id",
    "number",
    "gstin",
    "financial_year",
    "serial",
    "order_id",
    "shipment_id",
    "channel",
    "channel_order_id",
    "issued_at",
    "supplier",
    "recipient",
    "place_of_supply",
    "supply",
    "lines",
    "shipping_fee_paise",
    "taxable_paise",
    "cgst_paise",
    "sgst_paise",
    "igst_paise",
    "total_paise",
)


async def insert_invoice(conn: Conn, values: dict[str, Any]) -> Invoice:
    """Store an issued invoice."""
    row = await conn.fetchrow(
        f"""INSERT INTO invoices ({", ".join(_INVOICE_COLUMNS)})
            VALUES ({", ".join(f"${i}" for i in range(1, len(_INVOICE_COLUMNS) + 1))}) RETURNING *""",
        *(values[c] for c in _INVOICE_COLUMNS),
    )
    assert row is not None
    return Invoice.of(row)


async def cancel_invoice(conn: Conn, *, shipment_id: str, at: datetime) -> Invoice | None:
    """Cancel the invoice of a cancelled shipment (its number stays used); None if none stands."""
    row = await conn.fetchrow(
        """UPDATE invoices SET status = 'cancelled', cancelled_at = $2
           WHERE shipment_id = $1 AND status = 'issued' RETURNING *""",
        shipment_id,
        at,
    )
    return None if row is None else Invoice.of(row)


async def invoice(conn: Queryable, invoice_id: str) -> Invoice | None:
    """One invoice."""
    row = await conn.fetchrow("SELECT * FROM invoices WHERE invoice_id = $1", invoice_id)
    return None if row is None else Invoice.of(row)


async def invoice_page(
    conn: Queryable, *, order_id: str | None, before: tuple[datetime, str] | None, limit: int
) -> list[Invoice]:
    """Invoices newest first (one order's, or all), a page at a time."""
    rows = await conn.fetch(
        """SELECT * FROM invoices
           WHERE ($1::text IS NULL OR order_id = $1)
             AND ($2::timestamptz IS NULL OR (issued_at, invoice_id) < ($2, $3))
           ORDER BY issued_at DESC, invoice_id DESC LIMIT $4""",
        order_id,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return [Invoice.of(r) for r in rows]


async def shipment_page(
    conn: Queryable, *, state: str | None, after: str | None, limit: int
) -> list[Shipment]:
    """Shipments and where their invoices stand, by id, a page at a time."""
    rows = await conn.fetch(
        """SELECT * FROM shipments WHERE ($1::text IS NULL OR invoice_state = $1)
             AND ($2::text IS NULL OR shipment_id > $2) ORDER BY shipment_id LIMIT $3""",
        state,
        after,
        limit,
    )
    return [Shipment.of(r) for r in rows]


# credit requests and credit notes ---------------------------------------------------------------


async def request_credit(
    conn: Conn,
    *,
    source: str,
    reason: str,
    order_id: str,
    requested_at: datetime,
    shipment_id: str | None = None,
    return_id: str | None = None,
    lines: list[SkuQuantity] | None = None,
    items_paise: int = 0,
    shipping_fee_paise: int = 0,
) -> bool:
    """Ask for a credit once per source; False when it was asked already (a redelivery)."""
    row = await conn.fetchrow(
        """INSERT INTO credit_requests (source, reason, order_id, shipment_id, return_id, lines,
               items_paise, shipping_fee_paise, requested_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (source) DO NOTHING
           RETURNING source""",
        source,
        reason,
        order_id,
        shipment_id,
        return_id,
        [x.model_dump(mode="json") for x in lines or []],
        items_paise,
        shipping_fee_paise,
        requested_at,
    )
    return row is not None


async def credit_request_for_update(conn: Conn, source: str) -> CreditRequest | None:
    """A credit request, locked until the transaction ends (one crediting at a time per source)."""
    row = await conn.fetchrow("SELECT * FROM credit_requests WHERE source = $1 FOR UPDATE", source)
    return None if row is None else CreditRequest.of(row)


async def set_credit_state(conn: Conn, source: str, state: str, problem: str | None = None) -> None:
    """Where a credit request stands now."""
    await conn.execute(
        "UPDATE credit_requests SET state = $2, problem = $3, updated_at = now() WHERE source = $1",
        source,
        state,
        problem,
    )


async def due_credit_requests(conn: Conn, *, limit: int) -> list[str]:
    """Credit requests not credited yet, oldest first, skipping those another replica holds."""
    rows = await conn.fetch(
        """SELECT source FROM credit_requests WHERE state = 'due'
           ORDER BY requested_at LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )
    return [r["source"] for r in rows]


async def shipment_invoice_state(conn: Queryable, shipment_id: str) -> str | None:
    """Where a forward parcel's invoice stands, or None for a parcel not seen."""
    state = await conn.fetchval("SELECT invoice_state FROM shipments WHERE shipment_id = $1", shipment_id)
    return None if state is None else str(state)


async def parcel_invoice_states(conn: Queryable, order_id: str) -> list[tuple[str, str]]:
    """An order's parcels and where their invoices stand, by shipment id."""
    rows = await conn.fetch(
        "SELECT shipment_id, invoice_state FROM shipments WHERE order_id = $1 ORDER BY shipment_id",
        order_id,
    )
    return [(r["shipment_id"], r["invoice_state"]) for r in rows]


async def invoices_for_update(conn: Conn, *, order_id: str, shipment_id: str | None = None) -> list[Invoice]:
    """An order's invoices (or one parcel's) oldest first, locked: two credits of one invoice at
    once queue here, so the second sees what the first took."""
    rows = await conn.fetch(
        """SELECT * FROM invoices WHERE order_id = $1 AND ($2::text IS NULL OR shipment_id = $2)
           ORDER BY issued_at, serial FOR UPDATE""",
        order_id,
        shipment_id,
    )
    return [Invoice.of(r) for r in rows]


async def credit_notes_of_invoices(conn: Queryable, invoice_ids: list[str]) -> list[CreditNote]:
    """The credit notes issued against these invoices."""
    rows = await conn.fetch(
        "SELECT * FROM credit_notes WHERE invoice_id = ANY($1::text[]) ORDER BY issued_at, serial",
        invoice_ids,
    )
    return [CreditNote.of(r) for r in rows]


_CREDIT_NOTE_COLUMNS = (
    "credit_note_id",
    "number",
    "gstin",
    "financial_year",
    "serial",
    "source",
    "reason",
    "invoice_id",
    "invoice_number",
    "invoice_date",
    "order_id",
    "shipment_id",
    "return_id",
    "issued_at",
    "place_of_supply",
    "supply",
    "lines",
    "taxable_paise",
    "cgst_paise",
    "sgst_paise",
    "igst_paise",
    "total_paise",
)


async def insert_credit_note(conn: Conn, values: dict[str, Any]) -> CreditNote:
    """Store an issued credit note."""
    row = await conn.fetchrow(
        f"""INSERT INTO credit_notes ({", ".join(_CREDIT_NOTE_COLUMNS)})
            VALUES ({", ".join(f"${i}" for i in range(1, len(_CREDIT_NOTE_COLUMNS) + 1))}) RETURNING *""",
        *(values[c] for c in _CREDIT_NOTE_COLUMNS),
    )
    assert row is not None
    return CreditNote.of(row)


async def credit_note_page(
    conn: Queryable, *, order_id: str | None, before: tuple[datetime, str] | None, limit: int
) -> list[CreditNote]:
    """Credit notes newest first (one order's, or all), a page at a time."""
    rows = await conn.fetch(
        """SELECT * FROM credit_notes
           WHERE ($1::text IS NULL OR order_id = $1)
             AND ($2::timestamptz IS NULL OR (issued_at, credit_note_id) < ($2, $3))
           ORDER BY issued_at DESC, credit_note_id DESC LIMIT $4""",
        order_id,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return [CreditNote.of(r) for r in rows]


async def credit_note(conn: Queryable, credit_note_id: str) -> CreditNote | None:
    """One credit note, or None."""
    row = await conn.fetchrow("SELECT * FROM credit_notes WHERE credit_note_id = $1", credit_note_id)
    return None if row is None else CreditNote.of(row)


async def credit_request_page(
    conn: Queryable, *, state: str | None, after: str | None, limit: int
) -> list[CreditRequest]:
    """Credit requests and where they stand, by source, a page at a time."""
    rows = await conn.fetch(
        """SELECT * FROM credit_requests WHERE ($1::text IS NULL OR state = $1)
             AND ($2::text IS NULL OR source > $2) ORDER BY source LIMIT $3""",
        state,
        after,
        limit,
    )
    return [CreditRequest.of(r) for r in rows]


# GSTR-1 -----------------------------------------------------------------------------------------


async def month_invoices(conn: Queryable, *, gstin: str, start: datetime, end: datetime) -> list[Invoice]:
    """A GSTIN's invoices issued in [start, end), cancelled ones too."""
    rows = await conn.fetch(
        """SELECT * FROM invoices WHERE gstin = $1 AND issued_at >= $2 AND issued_at < $3
           ORDER BY serial""",
        gstin,
        start,
        end,
    )
    return [Invoice.of(r) for r in rows]


async def month_credit_notes(
    conn: Queryable, *, gstin: str, start: datetime, end: datetime
) -> list[tuple[CreditNote, int, str | None]]:
    """A GSTIN's credit notes issued in [start, end), each with its invoice's total and buyer GSTIN."""
    rows = await conn.fetch(
        """SELECT c.*, i.total_paise AS invoice_total_paise, i.recipient ->> 'gstin' AS buyer_gstin
           FROM credit_notes c
           JOIN invoices i USING (invoice_id)
           WHERE c.gstin = $1 AND c.issued_at >= $2 AND c.issued_at < $3 ORDER BY c.serial""",
        gstin,
        start,
        end,
    )
    return [(CreditNote.of(r), int(r["invoice_total_paise"]), r["buyer_gstin"]) for r in rows]


# e-invoices ---------------------------------------------------------------------------------------


async def request_einvoice(conn: Conn, *, invoice_id: str, gstin: str, requested_at: datetime) -> None:
    """Ask for an invoice's IRN (in the transaction that issues it; asked once)."""
    await conn.execute(
        """INSERT INTO einvoices (invoice_id, gstin, requested_at) VALUES ($1, $2, $3)
           ON CONFLICT (invoice_id) DO NOTHING""",
        invoice_id,
        gstin,
        requested_at,
    )


async def claim_due_einvoices(conn: Conn, *, limit: int, lease_seconds: float) -> list[str]:
    """Due e-invoices no worker is sending, leased to this one (committed at once, so no transaction
    stays open across the IRP call); an expired lease means the last call's answer was lost."""
    rows = await conn.fetch(
        """UPDATE einvoices SET lease_until = now() + make_interval(secs => $2), calls = calls + 1,
                  updated_at = now()
            WHERE invoice_id IN (
                SELECT invoice_id FROM einvoices
                 WHERE state IN ('due', 'cancel_due') AND (lease_until IS NULL OR lease_until < now())
                 ORDER BY requested_at LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING invoice_id, calls""",
        limit,
        lease_seconds,
    )
    return [r["invoice_id"] for r in rows]


async def einvoice_held(conn: Conn, *, invoice_id: str, problem: str, retry_after_seconds: float) -> None:
    """A try that did not register (or cancel): why, and when the next may be made."""
    await conn.execute(
        """UPDATE einvoices SET problem = $2, lease_until = now() + make_interval(secs => $3),
                  updated_at = now()
            WHERE invoice_id = $1 AND state IN ('due', 'cancel_due')""",
        invoice_id,
        problem,
        retry_after_seconds,
    )


async def einvoice_void(conn: Conn, *, invoice_id: str) -> None:
    """The invoice was cancelled before it was registered: it is never sent."""
    await conn.execute(
        """UPDATE einvoices SET state = 'void', lease_until = NULL, updated_at = now(),
                  problem = 'the invoice was cancelled before it was registered'
            WHERE invoice_id = $1 AND state = 'due'""",
        invoice_id,
    )


async def einvoice_rejected(conn: Conn, *, invoice_id: str, problem: str) -> None:
    """The IRP refused the document: an operator must put it right and retry. (A refused cancellation
    stays registered, with the IRP's reason: past 24 hours only a credit note undoes it.)"""
    await conn.execute(
        """UPDATE einvoices SET problem = $2, lease_until = NULL, updated_at = now(),
                  state = CASE state WHEN 'due' THEN 'rejected' ELSE 'registered' END
            WHERE invoice_id = $1 AND state IN ('due', 'cancel_due')""",
        invoice_id,
        problem,
    )


async def einvoice_registered(
    conn: Conn,
    *,
    invoice_id: str,
    irn: str,
    ack_no: str,
    ack_at: datetime,
    signed_invoice: str,
    signed_qr_code: str,
) -> bool:
    """Keep the IRP's answer; False when it was kept already (a late second answer changes nothing).
    An invoice cancelled while the IRP was registering it goes on to have its IRN cancelled."""
    row = await conn.fetchrow(
        """UPDATE einvoices SET irn = $2, ack_no = $3, ack_at = $4,
                  state = CASE WHEN (SELECT status FROM invoices i WHERE i.invoice_id = einvoices.invoice_id)
                                    = 'cancelled' THEN 'cancel_due' ELSE 'registered' END,
                  signed_invoice = $5, signed_qr_code = $6, problem = NULL, lease_until = NULL,
                  registered_at = now(), updated_at = now()
            WHERE invoice_id = $1 AND state IN ('due', 'rejected', 'void') RETURNING invoice_id""",
        invoice_id,
        irn,
        ack_no,
        ack_at,
        signed_invoice,
        signed_qr_code,
    )
    return row is not None


async def cancel_einvoice(conn: Conn, *, invoice_id: str) -> None:
    """The invoice was cancelled: a registered IRN is to be cancelled at the IRP (a due one is voided
    by the sweep, which sees the invoice cancelled)."""
    await conn.execute(
        """UPDATE einvoices SET state = 'cancel_due', lease_until = NULL, updated_at = now()
            WHERE invoice_id = $1 AND state = 'registered'""",
        invoice_id,
    )


async def einvoice_cancelled(conn: Conn, *, invoice_id: str, at: datetime) -> None:
    """The IRP cancelled the IRN."""
    await conn.execute(
        """UPDATE einvoices SET state = 'cancelled', cancelled_at = $2, problem = NULL, lease_until = NULL,
                  updated_at = now()
            WHERE invoice_id = $1 AND state = 'cancel_due'""",
        invoice_id,
        at,
    )


async def retry_einvoice(conn: Conn, invoice_id: str) -> bool:
    """Send a rejected e-invoice again (once its data is put right); False when it is not rejected."""
    row = await conn.fetchrow(
        """UPDATE einvoices SET state = 'due', lease_until = NULL, updated_at = now()
            WHERE invoice_id = $1 AND state = 'rejected' RETURNING invoice_id""",
        invoice_id,
    )
    return row is not None


async def einvoice(conn: Queryable, invoice_id: str) -> EInvoice | None:
    """An invoice's registration with the IRP, or None when it is not e-invoiced."""
    row = await conn.fetchrow("SELECT * FROM einvoices WHERE invoice_id = $1", invoice_id)
    return None if row is None else EInvoice.of(row)


_EINVOICE_STATE = """SELECT e.invoice_id, i.number, e.gstin, e.state, e.calls, e.problem, e.irn, e.ack_no,
                           e.ack_at, e.requested_at, e.registered_at, e.cancelled_at
                      FROM einvoices e JOIN invoices i USING (invoice_id)"""


async def einvoice_page(
    conn: Queryable, *, state: str | None, after: str | None, limit: int
) -> list[EInvoiceState]:
    """E-invoices and where they stand, by invoice id, a page at a time."""
    rows = await conn.fetch(
        f"""{_EINVOICE_STATE}
            WHERE ($1::text IS NULL OR e.state = $1) AND ($2::text IS NULL OR e.invoice_id > $2)
            ORDER BY e.invoice_id LIMIT $3""",
        state,
        after,
        limit,
    )
    return [EInvoiceState.of(r) for r in rows]


async def einvoice_state(conn: Queryable, invoice_id: str) -> EInvoiceState | None:
    """One e-invoice and where it stands, or None."""
    row = await conn.fetchrow(f"{_EINVOICE_STATE} WHERE e.invoice_id = $1", invoice_id)
    return None if row is None else EInvoiceState.of(row)
