"""B2B e-invoices of stored invoices (ADR 0400): whether one is due and its JSON for the IRP, read
from the invoice as issued (the supplier and recipient it snapshotted), so it never changes."""

from __future__ import annotations

from services.invoicing import crediting
from services.invoicing.domain import Supply
from services.invoicing.domain.einvoice import EInvoiceFacts, Party, applies
from services.invoicing.records import Invoice


def is_einvoiced(invoice: Invoice) -> bool:
    """A B2B invoice of a seller above the e-invoicing threshold when it was issued."""
    return applies(
        turnover_band=invoice.supplier.get("turnover_band"), buyer_gstin=invoice.recipient.get("gstin")
    )


def facts(invoice: Invoice) -> EInvoiceFacts:
    """The e-invoice's facts from a stored invoice (call only for a B2B one: the buyer has a GSTIN)."""
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
