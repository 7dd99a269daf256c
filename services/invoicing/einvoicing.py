"""B2B e-invoices of stored invoices (ADR 0400, 0401): whether one is due, its JSON for the IRP read
from the invoice as issued (the supplier and recipient it snapshotted, so it never changes), and the
sweep that registers due ones with the IRP, outside any transaction, until the IRP answers."""

from __future__ import annotations

from asyncpg import Pool

from chassis import geo
from chassis.logging import get_logger
from services.invoicing import crediting, store
from services.invoicing.domain import Supply, ewaybill
from services.invoicing.domain.einvoice import EInvoiceFacts, Party, applies, einvoice_json
from services.invoicing.providers.interface import Irp, IrpRejected, IrpUnavailable
from services.invoicing.records import Invoice
from services.invoicing.settings import InvoicingSettings

log = get_logger(__name__)


def consignment(invoice: Invoice) -> ewaybill.Consignment:
    """An invoice's parcel as its e-way bill states it, with the distance between the pincodes."""
    source = facts(invoice)
    origin = geo.coordinates(source.seller.pincode or "")
    destination = geo.coordinates(source.buyer.pincode or "")
    distance = geo.distance_km(origin, destination) if origin and destination else None
    return ewaybill.Consignment(invoice=source, distance_km=distance)


def is_einvoiced(invoice: Invoice) -> bool:
    """A B2B invoice of a seller above the e-invoicing threshold when it was issued."""
    return applies(
        turnover_band=invoice.supplier.get("turnover_band"), buyer_gstin=invoice.recipient.get("gstin")
    )


def facts(invoice: Invoice) -> EInvoiceFacts:
    """The e-invoice's facts from a stored invoice (a B2C buyer's GSTIN is empty)."""
    supplier, recipient = invoice.supplier, invoice.recipient
    buyer_gstin = str(recipient.get("gstin") or "")
    return EInvoiceFacts(
        number=invoice.number,
        issued_at=invoice.issued_at,
        seller=Party(
            gstin=supplier["gstin"],
            legal_name=supplier["legal_name"],
            trade_name=supplier.get("trade_name"),
            address=(supplier["address"],),
            city=supplier.get("city"),
            pincode=supplier.get("pincode"),
            state_code=supplier["state_code"],
        ),
        buyer=Party(
            gstin=buyer_gstin,
            legal_name=recipient["name"],
            address=tuple(recipient.get("address") or ()),
            city=recipient.get("city"),
            pincode=recipient.get("pincode"),
            state_code=buyer_gstin[:2],
        ),
        place_of_supply=invoice.place_of_supply,
        supply=Supply(invoice.supply),
        lines=tuple(crediting.taxed_line(x) for x in invoice.lines),
    )


async def register_due(pool: Pool, irp: Irp, settings: InvoicingSettings, *, batch: int = 20) -> int:
    """Send every due e-invoice no one is sending to the IRP; how many were registered. Each is
    leased in one short transaction, sent with no transaction open, and its answer kept in another."""
    async with pool.acquire() as conn, conn.transaction():
        due = await store.claim_due_einvoices(conn, limit=batch, lease_seconds=settings.irn_lease_seconds)
    registered = 0
    for invoice_id in due:
        invoice = await store.invoice(pool, invoice_id)
        registration = await store.einvoice(pool, invoice_id)
        if invoice is None or registration is None:  # foreign keys keep them; nothing to send
            continue
        if registration.state == "cancel_due" and registration.irn:
            await _cancel(pool, irp, settings, invoice, registration.irn)
            continue
        if invoice.status == "cancelled":
            async with pool.acquire() as conn:
                await store.einvoice_void(conn, invoice_id=invoice_id)
            continue
        document = einvoice_json(facts(invoice))
        if isinstance(document, list):
            # Waits for the missing fact (a registration's town and pincode) without asking the IRP.
            async with pool.acquire() as conn:
                await store.einvoice_held(
                    conn, invoice_id=invoice_id, problem="; ".join(document), retry_after_seconds=60
                )
            continue
        try:
            answer = await irp.register(invoice.gstin, document)
        except IrpUnavailable as exc:
            # The same document next time: its IRN is its identity, so a lost answer is no double.
            log.warning("irp call failed, will retry", invoice_id=invoice_id, error=str(exc))
            async with pool.acquire() as conn:
                await store.einvoice_held(
                    conn,
                    invoice_id=invoice_id,
                    problem=str(exc)[:500],
                    retry_after_seconds=settings.irn_retry_seconds,
                )
            continue
        except IrpRejected as exc:
            log.warning("irp refused an e-invoice", invoice_id=invoice_id, error=str(exc))
            async with pool.acquire() as conn:
                await store.einvoice_rejected(conn, invoice_id=invoice_id, problem=str(exc)[:1000])
            continue
        async with pool.acquire() as conn:
            registered += await store.einvoice_registered(
                conn,
                invoice_id=invoice_id,
                irn=answer.irn,
                ack_no=answer.ack_no,
                ack_at=answer.ack_at,
                signed_invoice=answer.signed_invoice,
                signed_qr_code=answer.signed_qr_code,
            )
        log.info("e-invoice registered", invoice_id=invoice_id, order_id=invoice.order_id, irn=answer.irn)
    return registered


CANCEL_REASON = "3"  # the IRP's code for "order cancelled"


async def _cancel(pool: Pool, irp: Irp, settings: InvoicingSettings, invoice: Invoice, irn: str) -> None:
    """Cancel at the IRP the IRN of an invoice whose shipment was cancelled (no transaction open)."""
    try:
        at = await irp.cancel(invoice.gstin, irn, reason=CANCEL_REASON, remark="Shipment cancelled")
    except IrpUnavailable as exc:
        log.warning("irp cancel failed, will retry", invoice_id=invoice.invoice_id, error=str(exc))
        async with pool.acquire() as conn:
            await store.einvoice_held(
                conn,
                invoice_id=invoice.invoice_id,
                problem=str(exc)[:500],
                retry_after_seconds=settings.irn_retry_seconds,
            )
        return
    except IrpRejected as exc:
        # Past 24 hours (or an e-way bill stands): the IRN stays; a credit note undoes the supply.
        log.warning("irp refused to cancel an irn", invoice_id=invoice.invoice_id, error=str(exc))
        async with pool.acquire() as conn:
            await store.einvoice_rejected(conn, invoice_id=invoice.invoice_id, problem=str(exc)[:1000])
        return
    async with pool.acquire() as conn:
        await store.einvoice_cancelled(conn, invoice_id=invoice.invoice_id, at=at)
    log.info("irn cancelled", invoice_id=invoice.invoice_id, order_id=invoice.order_id, irn=irn)
