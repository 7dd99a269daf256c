"""B2B e-invoices, pure: when one is due, the JSON the IRP registers (NIC schema INV-01, version 1.1)
and the IRN it answers with (ADR 0400).

Rules, stated once:
- A tax invoice to a registered buyer (the order carries the customer's GSTIN) is e-invoiced when the
  seller's aggregate turnover exceeds ₹5 crore (Notification 13/2020-Central Tax as amended by
  10/2023, from 1 August 2023): the `above_5_crore` band. A B2C invoice never is.
- Amounts are rupees as JSON numbers with at most two decimals (unit price three), from the stored
  paise, never re-rounded: AssAmt is the line's taxable value, TotItemVal the taxable value with its
  taxes; TotAmt − Discount = AssAmt, the discount stated before tax as the taxable value is.
- The IRN is the SHA-256, in hex, of supplier GSTIN + financial year ("2026-27") + document type
  ("INV") + document number.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from chassis.clock import IST
from services.invoicing.domain.gstin import gstin_problem
from services.invoicing.domain.tax import Supply, TaxedLine, half_up

SCHEMA_VERSION = "1.1"
E_INVOICING_BAND = "above_5_crore"
_FORBIDDEN = re.compile(r'["\\]')  # the schema's text pattern ^([^\\"])*$: no quote, no backslash


def applies(*, turnover_band: str | None, buyer_gstin: str | None) -> bool:
    """Whether an invoice must be registered with the IRP: B2B, above the turnover threshold."""
    return bool(buyer_gstin) and turnover_band == E_INVOICING_BAND


def irn(*, gstin: str, financial_year: int, doc_type: str, number: str) -> str:
    """The Invoice Reference Number the IRP computes for a document."""
    year = f"{financial_year}-{(financial_year + 1) % 100:02d}"
    return hashlib.sha256(f"{gstin}{year}{doc_type}{number}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Party:
    """A seller or buyer as the e-invoice names it."""

    gstin: str
    legal_name: str
    address: tuple[str, ...]
    city: str | None
    pincode: str | None
    state_code: str
    trade_name: str | None = None


@dataclass(frozen=True, slots=True)
class EInvoiceFacts:
    """What an invoice's e-invoice is made from (all of it is on the stored invoice)."""

    number: str
    issued_at: datetime
    seller: Party
    buyer: Party
    place_of_supply: str
    supply: Supply
    lines: tuple[TaxedLine, ...]


def rupees(paise: int) -> float:
    """Paise as a JSON number of rupees (exact to the paisa: float keeps two decimals' shortest form)."""
    return float(Decimal(paise) / 100)


def _text(value: str, limit: int) -> str:
    return _FORBIDDEN.sub("'", " ".join(value.split()))[:limit]


def _address(lines: tuple[str, ...]) -> tuple[str, str | None]:
    """Addr1 and Addr2 (each at most 100 characters; Addr2 at least 3 or left out)."""
    joined = _text(", ".join(x for x in lines if x.strip()), 200)
    first, rest = joined[:100], joined[100:].strip()
    return first, (rest if len(rest) >= 3 else None)


def date_text(at: datetime) -> str:
    """A document date as the schema writes it, India's calendar day: 07/12/2026."""
    return f"{at.astimezone(IST):%d/%m/%Y}"


def _party(party: Party, role: str, problems: list[str]) -> dict[str, Any]:
    problem = gstin_problem(party.gstin)
    if problem:
        problems.append(f"{role} GSTIN {party.gstin}: {problem}")
    name = _text(party.legal_name, 100)
    if len(name) < 3:
        problems.append(f"{role} legal name {party.legal_name!r} is shorter than 3 characters")
    first, second = _address(party.address)
    if not first:
        problems.append(f"{role} address is empty")
    city = _text(party.city or "", 50 if role == "seller" else 100)
    if len(city) < 3:
        problems.append(f"{role} city is missing or shorter than 3 characters")
    if not party.pincode or not re.fullmatch(r"[1-9][0-9]{5}", party.pincode):
        problems.append(f"{role} pincode is missing")
    out: dict[str, Any] = {"Gstin": party.gstin, "LglNm": name}
    if party.trade_name and len(_text(party.trade_name, 100)) >= 3:
        out["TrdNm"] = _text(party.trade_name, 100)
    out["Addr1"] = first
    if second:
        out["Addr2"] = second
    out["Loc"] = city
    out["Pin"] = int(party.pincode) if party.pincode and party.pincode.isdigit() else 0
    out["Stcd"] = party.state_code
    return out


def _item(number: int, line: TaxedLine) -> dict[str, Any]:
    value = line.gross_paise - line.discount_paise
    if line.taxable_paise == value:  # prices before tax: the discount is before tax already
        discount = line.discount_paise
    else:  # tax-inclusive prices: the discount's share before tax, as the taxable value was worked back
        discount = half_up(Decimal(line.discount_paise) * line.taxable_paise / value) if value else 0
    gross = line.taxable_paise + discount
    description = line.description if len(line.description) >= 3 else f"{line.description} {line.sku}"
    return {
        "SlNo": str(number),
        "PrdDesc": _text(description, 300),
        "IsServc": "Y" if line.hsn_code.startswith("99") else "N",
        "HsnCd": line.hsn_code,
        "Qty": line.quantity,
        "Unit": line.unit,
        "UnitPrice": float(round(Decimal(gross) / 100 / line.quantity, 3)),
        "TotAmt": rupees(gross),
        "Discount": rupees(discount),
        "AssAmt": rupees(line.taxable_paise),
        "GstRt": float(line.gst_rate),
        "IgstAmt": rupees(line.igst_paise),
        "CgstAmt": rupees(line.cgst_paise),
        "SgstAmt": rupees(line.sgst_paise),
        "TotItemVal": rupees(line.total_paise),
    }


def einvoice_json(facts: EInvoiceFacts) -> dict[str, Any] | list[str]:
    """The invoice as the IRP's Generate IRN takes it, or every reason it cannot be sent yet."""
    problems: list[str] = []
    seller = _party(facts.seller, "seller", problems)
    # The buyer's Stcd is its registration's state; Pos is the place of supply (where it is delivered).
    buyer = {**_party(facts.buyer, "buyer", problems), "Pos": facts.place_of_supply}
    if not facts.lines:
        problems.append("the invoice has no lines")
    if problems:
        return problems
    items = [_item(i, line) for i, line in enumerate(facts.lines, start=1)]
    return {
        "Version": SCHEMA_VERSION,
        "TranDtls": {"TaxSch": "GST", "SupTyp": "B2B", "RegRev": "N", "IgstOnIntra": "N"},
        "DocDtls": {"Typ": "INV", "No": facts.number, "Dt": date_text(facts.issued_at)},
        "SellerDtls": seller,
        "BuyerDtls": buyer,
        "ItemList": items,
        "ValDtls": {
            "AssVal": rupees(sum(x.taxable_paise for x in facts.lines)),
            "CgstVal": rupees(sum(x.cgst_paise for x in facts.lines)),
            "SgstVal": rupees(sum(x.sgst_paise for x in facts.lines)),
            "IgstVal": rupees(sum(x.igst_paise for x in facts.lines)),
            "RndOffAmt": 0,
            "TotInvVal": rupees(sum(x.total_paise for x in facts.lines)),
        },
    }
