"""Issue a shipment's invoice: gather the facts, let the domain draft it, number it in the GSTIN's
series and store it with its event, all in the caller's transaction (so a rollback returns the
number, and a redelivered event finds the invoice already issued)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal

import indian_pincode

from chassis.db import Conn
from chassis.ids import time_ordered_id
from chassis.service import Service
from contracts import Event, InvoicedLine, InvoiceIssued
from services.invoicing import domain, store
from services.invoicing.domain import DocumentKind, Draft, InvoiceFacts, TaxClassFact, einvoice
from services.invoicing.records import Invoice, Order, Registration
from services.invoicing.settings import InvoicingSettings

Emit = Callable[[Event], Awaitable[str]]


def place_of_supply(order: Order) -> str | None:
    """The delivery state's GST code: from the pincode (the state the parcel really goes to), else the
    state the customer wrote; None when neither is an Indian state."""
    for name in (indian_pincode.get_state(order.shipping_address.pincode), order.shipping_address.state):
        if name:
            try:
                return domain.state_code(name)
            except KeyError:
                continue
    return None


async def issue(
    conn: Conn, emit: Emit, *, shipment_id: str, now: datetime, settings: InvoicingSettings
) -> str:
    """Issue the invoice of a packed shipment if it is due and everything it needs is known; the
    shipment's invoice state after (issued, marketplace, due with its problem, or unchanged)."""
    shipment = await store.shipment_for_update(conn, shipment_id)
    if shipment is None or shipment.invoice_state != "due":
        return shipment.invoice_state if shipment else "none"
    order = await store.order(conn, shipment.order_id)
    if order is None:
        await store.set_invoice_state(conn, shipment_id, "due", f"order {shipment.order_id} is not known yet")
        return "due"
    if order.rehearsal:
        await store.set_invoice_state(conn, shipment_id, "rehearsal", "a rehearsal order is never invoiced")
        return "rehearsal"
    if order.channel in settings.marketplace_invoiced_channels:
        await store.set_invoice_state(
            conn, shipment_id, "marketplace", f"{order.channel} invoices this order"
        )
        return "marketplace"
    registration = await store.warehouse_registration(conn, shipment.warehouse_code)
    pos = place_of_supply(order)
    problems = []
    if registration is None:
        problems.append(
            f"warehouse {shipment.warehouse_code} has no GSTIN: PUT /warehouses/{shipment.warehouse_code}"
        )
    if pos is None:
        problems.append(f"no Indian state for pincode {order.shipping_address.pincode}")
    lines = shipment.lines or ()
    classes = await store.tax_classes(conn, [x.sku for x in lines])
    facts = InvoiceFacts(
        shipment_lines=tuple((x.sku, x.quantity) for x in lines),
        order_lines=tuple((x.sku, x.quantity, x.unit_price_paise) for x in order.lines),
        order_discount_paise=order.discount_paise,
        order_shipping_fee_paise=order.shipping_fee_paise,
        shipping_fee_already_invoiced=await store.shipping_fee_invoiced(conn, order.order_id),
        tax_classes={
            sku: TaxClassFact(c.description, c.hsn_code, c.gst_rate, c.unit) for sku, c in classes.items()
        },
        supplier_state_code=registration.state_code if registration else "",
        turnover_band=registration.turnover_band if registration else "up_to_5_crore",
        place_of_supply=pos or "",
        prices_include_tax=settings.prices_include_tax,
    )
    draft = domain.draft_invoice(facts)
    if isinstance(draft, list):
        problems.extend(draft)
    if problems or registration is None or pos is None or isinstance(draft, list):
        await store.set_invoice_state(conn, shipment_id, "due", "; ".join(problems))
        return "due"
    # Dated when packed, or now if it was held for a missing fact since (never before packing).
    issued_at = max(now, shipment.packed_at) if shipment.packed_at else now
    invoice = await _store_invoice(conn, order, shipment_id, registration, pos, draft, issued_at)
    if einvoice.applies(turnover_band=registration.turnover_band, buyer_gstin=order.customer.gstin):
        # Sent to the IRP by a sweep, outside this transaction (ADR 0401).
        await store.request_einvoice(
            conn, invoice_id=invoice.invoice_id, gstin=invoice.gstin, requested_at=now
        )
    await store.set_invoice_state(conn, shipment_id, "issued")
    await emit(issued_event(invoice, shipment.warehouse_code))
    return "issued"


async def issue_due(service: Service, settings: InvoicingSettings, *, now: datetime, batch: int = 50) -> int:
    """Try again the invoices held for a missing fact; how many were issued. One transaction per
    shipment, so one that still cannot be issued does not hold the others back."""
    issued = 0
    async with service.pool.acquire() as conn:
        async with conn.transaction():
            due = await store.due_shipments(conn, limit=batch)
        for shipment_id in due:
            async with conn.transaction():
                state = await issue(
                    conn, lambda e: service.emit(conn, e), shipment_id=shipment_id, now=now, settings=settings
                )
            issued += state == "issued"
    return issued


async def _store_invoice(
    conn: Conn,
    order: Order,
    shipment_id: str,
    registration: Registration,
    pos: str,
    draft: Draft,
    now: datetime,
) -> Invoice:
    year = domain.financial_year(now)
    serial = await store.next_serial(
        conn, gstin=registration.gstin, kind=DocumentKind.INVOICE.value, financial_year=year
    )
    totals = domain.totals(list(draft.lines))
    address = order.shipping_address
    return await store.insert_invoice(
        conn,
        {
            "invoice_id": time_ordered_id("INV"),
            "number": domain.document_number(DocumentKind.INVOICE, year, serial),
            "gstin": registration.gstin,
            "financial_year": year,
            "serial": serial,
            "order_id": order.order_id,
            "shipment_id": shipment_id,
            "channel": order.channel,
            "channel_order_id": order.channel_order_id,
            "issued_at": now,
            "supplier": {
                "gstin": registration.gstin,
                "legal_name": registration.legal_name,
                "trade_name": registration.trade_name,
                "address": registration.address,
                "state_code": registration.state_code,
                "state": domain.STATE_CODES[registration.state_code],
                "city": registration.city,
                "pincode": registration.pincode,
                "turnover_band": registration.turnover_band,
            },
            "recipient": {
                "name": order.customer.name,
                "address": [x for x in (address.line1, address.line2, address.landmark) if x],
                "city": address.city,
                "state": address.state,
                "pincode": address.pincode,
                "gstin": order.customer.gstin,
            },
            "place_of_supply": pos,
            "supply": draft.supply.value,
            "lines": [line_json(x) for x in draft.lines],
            "shipping_fee_paise": draft.shipping_fee_paise,
            "taxable_paise": totals.taxable_paise,
            "cgst_paise": totals.cgst_paise,
            "sgst_paise": totals.sgst_paise,
            "igst_paise": totals.igst_paise,
            "total_paise": totals.total_paise,
        },
    )


def line_json(line: domain.TaxedLine) -> dict[str, object]:
    fields = asdict(line)
    fields["gst_rate"] = str(line.gst_rate.normalize())
    return fields


def issued_event(invoice: Invoice, warehouse_code: str) -> InvoiceIssued:
    """The event of an invoice as it stands (issued, or cancelled later)."""
    return InvoiceIssued(
        order_id=invoice.order_id,
        invoice_id=invoice.invoice_id,
        number=invoice.number,
        gstin=invoice.gstin,
        shipment_id=invoice.shipment_id,
        warehouse_code=warehouse_code,
        issued_at=invoice.issued_at,
        place_of_supply=invoice.place_of_supply,
        supply="intra_state" if invoice.supply == "intra_state" else "inter_state",
        taxable_paise=invoice.taxable_paise,
        cgst_paise=invoice.cgst_paise,
        sgst_paise=invoice.sgst_paise,
        igst_paise=invoice.igst_paise,
        total_paise=invoice.total_paise,
        status="cancelled" if invoice.status == "cancelled" else "issued",
        lines=[
            InvoicedLine(sku=line["sku"], quantity=line["quantity"], gst_rate=rate_text(line["gst_rate"]))
            for line in invoice.lines
        ],
    )


def rate_text(rate: object) -> str:
    """A GST rate as plain digits ("40", "0.25"), never in exponent form."""
    return format(Decimal(str(rate)).normalize(), "f")
