"""B2B e-invoices (ADR 0400): our JSON satisfies the constraints of NIC's published e-invoice schema
(INV-01, version 1.1), adds up to the invoice, and is only made for a B2B invoice above ₹5 crore.

The schema below encodes, as a well-formed JSON Schema, the field names, types, lengths, patterns
and ranges of NIC's "GST-India Invoice Document" schema (draft-07, published on the e-invoice
portal, einvoice1.gst.gov.in, and the API sandbox, einv-apisandbox.nic.in) for the objects we send.
The published file is not itself a valid schema (its properties sit at the top level, ItemList is an
array literal, some keys carry stray spaces), so it is not copied here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import jsonschema_rs
import pytest

from services.invoicing import domain, einvoicing, issuing
from services.invoicing.domain import Good
from services.invoicing.domain.einvoice import EInvoiceFacts, Party, applies, einvoice_json, irn
from services.invoicing.records import Invoice

TEXT = r'^([^\\"])*$'
DATE = r"^[0-3][0-9]\/[0-1][0-9]\/[2][0][1-2][0-9]$"
GSTIN = r"^([0-9]{2}[0-9A-Z]{13})$"
STCD = r"^(?!0+$)([0-9]{1,2})$"


def text(low: int, high: int) -> dict[str, Any]:
    return {"type": "string", "minLength": low, "maxLength": high, "pattern": TEXT}


def amount(high: float = 999999999999.99, low: float = 0) -> dict[str, Any]:
    return {"type": "number", "minimum": low, "maximum": high}


def party(seller: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Gstin": {"type": "string", "minLength": 15, "maxLength": 15, "pattern": GSTIN}
        if seller
        else {
            "type": "string",
            "minLength": 3,
            "maxLength": 15,
            "pattern": r"^(([0-9]{2}[0-9A-Z]{13})|URP)$",
        },
        "LglNm": text(3, 100),
        "TrdNm": text(3, 100),
        "Addr1": text(1, 100),
        "Addr2": text(3, 100),
        "Loc": text(3, 50 if seller else 100),
        "Pin": {"type": "number", "minimum": 100000, "maximum": 999999},
        "Stcd": {"type": "string", "minLength": 1, "maxLength": 2, "pattern": STCD},
        "Ph": {"type": "string", "minLength": 6, "maxLength": 12, "pattern": r"^([0-9]{6,12})$"},
        "Em": {"type": "string", "minLength": 6, "maxLength": 100},
    }
    required = ["Gstin", "LglNm", "Addr1", "Loc", "Pin", "Stcd"]
    if not seller:
        properties["Pos"] = {"type": "string", "minLength": 1, "maxLength": 2, "pattern": STCD}
        required = ["Gstin", "LglNm", "Pos", "Addr1", "Loc", "Stcd"]
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


YN = {"type": "string", "enum": ["Y", "N"]}
SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["Version", "TranDtls", "DocDtls", "SellerDtls", "BuyerDtls", "ItemList", "ValDtls"],
    "properties": {
        "Version": {"type": "string", "minLength": 1, "maxLength": 6},
        "TranDtls": {
            "type": "object",
            "additionalProperties": False,
            "required": ["TaxSch", "SupTyp"],
            "properties": {
                "TaxSch": {"type": "string", "enum": ["GST"]},
                "SupTyp": {"type": "string", "enum": ["B2B", "SEZWP", "SEZWOP", "EXPWP", "EXPWOP", "DEXP"]},
                "RegRev": YN,
                "EcmGstin": {"type": "string", "minLength": 15, "maxLength": 15, "pattern": GSTIN},
                "IgstOnIntra": YN,
            },
        },
        "DocDtls": {
            "type": "object",
            "additionalProperties": False,
            "required": ["Typ", "No", "Dt"],
            "properties": {
                "Typ": {"type": "string", "enum": ["INV", "CRN", "DBN"]},
                "No": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 16,
                    "pattern": r"^([a-zA-Z1-9]{1}[a-zA-Z0-9\/-]{0,15})$",
                },
                "Dt": {"type": "string", "minLength": 10, "maxLength": 10, "pattern": DATE},
            },
        },
        "SellerDtls": party(seller=True),
        "BuyerDtls": party(seller=False),
        "ItemList": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "SlNo",
                    "IsServc",
                    "HsnCd",
                    "UnitPrice",
                    "TotAmt",
                    "AssAmt",
                    "GstRt",
                    "TotItemVal",
                ],
                "properties": {
                    "SlNo": {"type": "string", "minLength": 1, "maxLength": 6, "pattern": r"^([0-9]{1,6})$"},
                    "PrdDesc": text(3, 300),
                    "IsServc": YN,
                    "HsnCd": {
                        "type": "string",
                        "minLength": 4,
                        "maxLength": 8,
                        "pattern": r"^(?!0+$)([0-9]{4}|[0-9]{6}|[0-9]{8})$",
                    },
                    "Qty": amount(9999999999.999),
                    "Unit": {
                        "type": "string",
                        "minLength": 3,
                        "maxLength": 8,
                        "pattern": r"^([A-Z|a-z]{3,8})$",
                    },
                    "UnitPrice": amount(999999999999.999),
                    "TotAmt": amount(),
                    "Discount": amount(),
                    "AssAmt": amount(),
                    "GstRt": amount(999.999),
                    "IgstAmt": amount(),
                    "CgstAmt": amount(),
                    "SgstAmt": amount(),
                    "TotItemVal": amount(),
                },
            },
        },
        "ValDtls": {
            "type": "object",
            "additionalProperties": False,
            "required": ["AssVal", "TotInvVal"],
            "properties": {
                "AssVal": amount(99999999999999.99),
                "CgstVal": amount(99999999999999.99),
                "SgstVal": amount(99999999999999.99),
                "IgstVal": amount(99999999999999.99),
                "Discount": amount(99999999999999.99),
                "RndOffAmt": amount(99.99, -99.99),
                "TotInvVal": amount(99999999999999.99),
            },
        },
    },
}
VALIDATOR = jsonschema_rs.validator_for(SCHEMA)

SELLER = Party(
    gstin="27AAPFU0939F1ZV",
    legal_name="Chai Point Retail Private Limited",
    trade_name="Chai Point",
    address=('Gala 12, "Rajlaxmi" Logistics Park, Vadpe, Bhiwandi, Thane 421302',),
    city="Bhiwandi",
    pincode="421302",
    state_code="27",
)
BUYER = Party(
    gstin="29AAICA3918J1ZE",
    legal_name="Acme Cafe Private Limited",
    address=("12 MG Road", "Ashok Nagar"),
    city="Bengaluru",
    pincode="560001",
    state_code="29",
)
TEA = Good("TEA-ASSAM-250", "Assam tea 250 g", "0902", Decimal(5), 3, 34900)
KURTA = Good("KURTA-M", "Cotton kurta M", "6206", Decimal(12), 1, 129900)
ISSUED = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)  # 7 December in India


def facts(*, place: str = "29", inclusive: bool = True, discount: int = 10000) -> EInvoiceFacts:
    goods = [TEA, KURTA]
    supply = domain.supply_between("27", place)
    lines = domain.invoice_lines(
        goods,
        order_value_paise=sum(g.quantity * g.unit_price_paise for g in goods),
        order_discount_paise=discount,
        shipping_fee_paise=4900,
        supply=supply,
        prices_include_tax=inclusive,
    )
    return EInvoiceFacts(
        number="INV/26-27/000042",
        issued_at=ISSUED,
        seller=SELLER,
        buyer=BUYER,
        place_of_supply=place,
        supply=supply,
        lines=tuple(lines),
    )


def paise(rupees: float) -> int:
    return round(Decimal(str(rupees)) * 100)


@pytest.mark.parametrize(("place", "inclusive"), [("29", True), ("27", True), ("29", False)])
def test_the_einvoice_satisfies_the_published_schema_and_adds_up_to_the_invoice(
    place: str, inclusive: bool
) -> None:
    source = facts(place=place, inclusive=inclusive)
    document = einvoice_json(source)
    assert isinstance(document, dict), document
    errors = [f"{e.instance_path}: {e.message}" for e in VALIDATOR.iter_errors(document)]
    assert errors == []

    assert document["DocDtls"] == {"Typ": "INV", "No": "INV/26-27/000042", "Dt": "07/12/2026"}
    assert document["TranDtls"] == {"TaxSch": "GST", "SupTyp": "B2B", "RegRev": "N", "IgstOnIntra": "N"}
    assert (document["BuyerDtls"]["Pos"], document["BuyerDtls"]["Stcd"]) == (place, "29")
    assert '"' not in document["SellerDtls"]["Addr1"]
    items = document["ItemList"]
    assert [x["HsnCd"] for x in items] == ["0902", "6206", "9965"]
    assert [x["IsServc"] for x in items] == ["N", "N", "Y"]
    for item, line in zip(items, source.lines, strict=True):
        assert paise(item["AssAmt"]) == line.taxable_paise
        assert paise(item["TotAmt"]) - paise(item["Discount"]) == line.taxable_paise
        assert paise(item["TotItemVal"]) == line.total_paise
        assert paise(item["CgstAmt"]) + paise(item["SgstAmt"]) + paise(item["IgstAmt"]) == line.tax_paise
        # UnitPrice × Qty is TotAmt to within half a paisa a unit (the price has three decimals).
        assert (
            abs(Decimal(str(item["UnitPrice"])) * item["Qty"] - Decimal(str(item["TotAmt"])))
            <= Decimal("0.0005") * item["Qty"]
        )
    if place == "27":
        assert all(x["IgstAmt"] == 0 for x in items) and any(x["CgstAmt"] for x in items)
    else:
        assert all(x["CgstAmt"] == 0 and x["SgstAmt"] == 0 for x in items)
    totals = document["ValDtls"]
    assert paise(totals["TotInvVal"]) == sum(x.total_paise for x in source.lines)
    assert paise(totals["AssVal"]) == sum(paise(x["AssAmt"]) for x in items)


def test_a_seller_without_town_and_pincode_or_a_mistyped_buyer_gstin_is_named_not_sent() -> None:
    source = facts()
    bare = replace(
        source,
        seller=replace(SELLER, city=None, pincode=None),
        buyer=replace(BUYER, gstin="29AAICA3918J1ZF"),
    )
    problems = einvoice_json(bare)
    assert problems == [
        "seller city is missing or shorter than 3 characters",
        "seller pincode is missing",
        "buyer GSTIN 29AAICA3918J1ZF: check digit is wrong (a mistyped character?): expected E",
    ]


def test_the_irn_is_the_sha256_of_gstin_year_type_and_number() -> None:
    # The example NIC's e-invoice material gives: HASH of "01AAAAB1234C1Z02019-20INVAB1234".
    assert irn(gstin="01AAAAB1234C1Z0", financial_year=2019, doc_type="INV", number="AB1234") == (
        "35054cc24d97033afc24f49ec4444dbab81f542c555f9d30359dc75794e06bbe"
    )


def test_only_a_b2b_invoice_of_a_seller_above_five_crore_is_einvoiced() -> None:
    assert applies(turnover_band="above_5_crore", buyer_gstin="29AAICA3918J1ZE")
    assert not applies(turnover_band="up_to_5_crore", buyer_gstin="29AAICA3918J1ZE")
    assert not applies(turnover_band="above_5_crore", buyer_gstin=None)
    assert not applies(turnover_band=None, buyer_gstin="29AAICA3918J1ZE")  # issued before the band was kept


def test_a_stored_b2b_invoice_gives_its_einvoice_from_what_it_snapshotted() -> None:
    source = facts()
    stored = Invoice(
        invoice_id="INV-1",
        number=source.number,
        gstin=SELLER.gstin,
        financial_year=2026,
        serial=42,
        order_id="ORD-1",
        shipment_id="SHP-1",
        channel="website",
        channel_order_id="W-1",
        issued_at=ISSUED,
        supplier={
            "gstin": SELLER.gstin,
            "legal_name": SELLER.legal_name,
            "trade_name": SELLER.trade_name,
            "address": SELLER.address[0],
            "state_code": "27",
            "state": "Maharashtra",
            "city": "Bhiwandi",
            "pincode": "421302",
            "turnover_band": "above_5_crore",
        },
        recipient={
            "name": BUYER.legal_name,
            "address": list(BUYER.address),
            "city": "Bengaluru",
            "state": "Karnataka",
            "pincode": "560001",
            "gstin": BUYER.gstin,
        },
        place_of_supply="29",
        supply=source.supply.value,
        lines=tuple(issuing.line_json(x) for x in source.lines),
        shipping_fee_paise=4900,
        taxable_paise=0,
        cgst_paise=0,
        sgst_paise=0,
        igst_paise=0,
        total_paise=0,
        status="issued",
        cancelled_at=None,
    )
    assert einvoicing.is_einvoiced(stored)
    assert einvoice_json(einvoicing.facts(stored)) == einvoice_json(source)
    b2c = replace(stored, recipient={**stored.recipient, "gstin": None})
    assert not einvoicing.is_einvoiced(b2c)
