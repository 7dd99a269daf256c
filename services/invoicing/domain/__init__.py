"""The invoicing service's decisions, pure: GSTINs, tax per line, numbering, amounts in words."""

from services.invoicing.domain.credit import (
    Creditable,
    InvoiceToCredit,
    credit_line,
    invoice_left,
    left_to_credit,
    refund_credit,
    rto_credit,
)
from services.invoicing.domain.document import Draft, InvoiceFacts, TaxClassFact, draft_invoice
from services.invoicing.domain.gstin import STATE_CODES, gstin_problem, state_code
from services.invoicing.domain.numbering import DocumentKind, document_number, financial_year, fy_label
from services.invoicing.domain.tax import (
    GST_RATES,
    Good,
    Supply,
    TaxedLine,
    Totals,
    half_up,
    invoice_lines,
    share,
    supply_between,
    tax_line,
    totals,
)
from services.invoicing.domain.words import number_in_words, rupees_in_words

__all__ = [
    "GST_RATES",
    "STATE_CODES",
    "Creditable",
    "DocumentKind",
    "Draft",
    "Good",
    "InvoiceFacts",
    "InvoiceToCredit",
    "Supply",
    "TaxClassFact",
    "TaxedLine",
    "Totals",
    "credit_line",
    "document_number",
    "draft_invoice",
    "financial_year",
    "fy_label",
    "gstin_problem",
    "half_up",
    "invoice_left",
    "invoice_lines",
    "left_to_credit",
    "number_in_words",
    "refund_credit",
    "rto_credit",
    "rupees_in_words",
    "share",
    "state_code",
    "supply_between",
    "tax_line",
    "totals",
]
