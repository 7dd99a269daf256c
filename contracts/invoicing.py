"""GST documents: a tax invoice per shipment and a credit note per return or RTO, each numbered in
its GSTIN's series for the financial year; money in paise (taxable value and each tax)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from contracts import topics
from contracts._base import Event, Model, UtcDatetime, utcnow
from contracts.values import NonEmptyStr, Paise, Quantity, Sku, WarehouseCode

StateCode = Field(pattern=r"^[0-9]{2}$", description="GST state code of the place of supply, e.g. 27.")
GstinField = Field(pattern=r"^[0-9]{2}[A-Z0-9]{13}$", description="The supplier's GSTIN.")


class _GstDocument(Event):
    order_id: NonEmptyStr
    number: str = Field(pattern=r"^[A-Za-z0-9/-]{1,16}$", description="The document's serial number.")
    gstin: str = GstinField
    issued_at: UtcDatetime
    place_of_supply: str = StateCode
    supply: Literal["intra_state", "inter_state"] = Field(
        description="intra_state: CGST + SGST; inter_state: IGST."
    )
    taxable_paise: Paise
    cgst_paise: Paise
    sgst_paise: Paise
    igst_paise: Paise
    total_paise: Paise
    occurred_at: UtcDatetime = Field(default_factory=utcnow)


class InvoicedLine(Model):
    """One goods line of an invoice: the SKU, its units and the GST rate it was taxed at."""

    sku: Sku
    quantity: Quantity
    gst_rate: str = Field(
        pattern=r"^[0-9]{1,2}(\.[0-9]{1,2})?$", examples=["5", "0.25"], description="Percent, as invoiced."
    )


class InvoiceIssued(_GstDocument):
    """``invoicing.invoice_issued.v1``: a tax invoice for one shipment, issued when it was packed."""

    TOPIC = topics.INVOICING_INVOICE_ISSUED

    invoice_id: NonEmptyStr
    shipment_id: NonEmptyStr
    warehouse_code: WarehouseCode
    status: Literal["issued", "cancelled"] = Field(
        default="issued",
        description="cancelled: the shipment was cancelled after its invoice was issued; the number "
        "stays used (never reissued) and the invoice is reported as cancelled.",
    )
    lines: list[InvoicedLine] = Field(
        default_factory=list,
        description="The goods lines with their GST rates (a marketplace's label asks for each item's "
        "rate, ADR 370). Empty from invoices issued before the field was added.",
    )


class CreditNoteIssued(_GstDocument):
    """``invoicing.credit_note_issued.v1``: a credit note citing the invoice it reduces."""

    TOPIC = topics.INVOICING_CREDIT_NOTE_ISSUED

    credit_note_id: NonEmptyStr
    invoice_id: NonEmptyStr
    invoice_number: str = Field(pattern=r"^[A-Za-z0-9/-]{1,16}$")
    invoice_issued_at: UtcDatetime
    reason: Literal["return", "rto"]
    return_id: str | None = None
