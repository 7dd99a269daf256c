"""Tax invoice and credit note PDFs: every Rule 46 / Rule 53 field, read back from the PDF itself, for a
customer who writes in Hindi or Tamil, and nothing drawn outside its box (issue 19, ADR 390, ADR 391)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from services.invoicing import documents, domain, issuing
from services.invoicing.domain import Good
from services.invoicing.records import CreditNote, Invoice
from tests import pdf_checks

NOTO = Path("/usr/share/fonts/truetype/noto")
BHIWANDI = {
    "gstin": "27AAPFU0939F1ZV",
    "legal_name": "Chai Point Retail Private Limited",
    "trade_name": "Chai Point",
    "address": "Gala 12, Rajlaxmi Logistics Park, Vadpe, Bhiwandi, Thane 421302",
    "state_code": "27",
    "state": "Maharashtra",
}
HINDI = {
    "name": "श्रीमती प्रिया शर्मा",
    "address": ["फ्लैट 402, श्री गणेश अपार्टमेंट", "क्षेत्रीय मार्ग, मालवीय नगर"],
    "city": "जयपुर",
    "state": "राजस्थान",
    "pincode": "302017",
    "gstin": None,
}
TAMIL = {
    "name": "திருமதி லக்ஷ்மி கிருஷ்ணன்",
    "address": ["14, பெரியார் தெரு", "மயிலாப்பூர்"],
    "city": "சென்னை",
    "state": "தமிழ்நாடு",
    "pincode": "600004",
    "gstin": None,
}
TEA = Good("TEA-ASSAM-250", "Assam tea 250 g", "0902", Decimal(5), 2, 34900)
KURTA = Good("KURTA-M", "Cotton kurta M", "6206", Decimal(12), 1, 129900)
ISSUED = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)  # 7 December in India


def invoice(recipient: dict[str, object], place_of_supply: str, goods: list[Good] | None = None) -> Invoice:
    goods = goods or [TEA, KURTA]
    supply = domain.supply_between("27", place_of_supply)
    lines = domain.invoice_lines(
        goods,
        order_value_paise=sum(g.quantity * g.unit_price_paise for g in goods),
        order_discount_paise=10000,
        shipping_fee_paise=4900,
        supply=supply,
    )
    totals = domain.totals(lines)
    return Invoice(
        invoice_id="INV-01JF0000000000000000000000",
        number="INV/26-27/000042",
        gstin=BHIWANDI["gstin"],
        financial_year=2026,
        serial=42,
        order_id="ORD-20261207-000123",
        shipment_id="SHP-000123-1",
        channel="shopify",
        channel_order_id="#1042",
        issued_at=ISSUED,
        supplier=BHIWANDI,
        recipient=recipient,
        place_of_supply=place_of_supply,
        supply=supply.value,
        lines=tuple(issuing.line_json(x) for x in lines),
        shipping_fee_paise=4900,
        taxable_paise=totals.taxable_paise,
        cgst_paise=totals.cgst_paise,
        sgst_paise=totals.sgst_paise,
        igst_paise=totals.igst_paise,
        total_paise=totals.total_paise,
        status="issued",
        cancelled_at=None,
    )


def every_field(text: str, source: Invoice) -> list[str]:
    """The Rule 46 fields the text lacks."""
    recipient = source.recipient
    fields = {
        "title": "TAX INVOICE",
        "supplier": BHIWANDI["legal_name"],
        "supplier address": BHIWANDI["address"],
        "supplier GSTIN": f"GSTIN {BHIWANDI['gstin']}",
        "serial": f"Invoice no. {source.number}",
        "date": "Date 07-12-2026",
        "recipient name": recipient["name"],
        "recipient address": " ".join([*recipient["address"], f"{recipient['city']}, {recipient['state']}"]),
        "pincode": recipient["pincode"],
        "place of supply": f"Place of supply {documents.state(source.place_of_supply)}",
        "reverse charge": "Reverse charge No",
        "amount in words": domain.rupees_in_words(source.total_paise),
        "total": documents.money(source.total_paise),
        "signature": "Authorised signatory",
    }
    for line in source.lines:
        fields[f"HSN of {line['sku']}"] = line["hsn_code"]
        fields[f"description of {line['sku']}"] = line["description"]
        fields[f"quantity and unit of {line['sku']}"] = f"{line['quantity']} {line['unit']}"
        fields[f"taxable value of {line['sku']}"] = documents.money(line["taxable_paise"])
    if source.supply == "intra_state":
        fields |= {
            "CGST": f"CGST {documents.money(source.cgst_paise)}",
            "SGST": f"SGST {documents.money(source.sgst_paise)}",
        }
    else:
        fields |= {"IGST": f"IGST {documents.money(source.igst_paise)}"}
    words = pdf_checks.words(text)
    return [name for name, value in fields.items() if pdf_checks.words(str(value)) not in words]


@pytest.mark.parametrize(("recipient", "place"), [(HINDI, "08"), (TAMIL, "33")], ids=["hindi", "tamil"])
def test_an_invoice_carries_every_rule_46_field_and_the_customers_own_script(
    recipient: dict[str, object], place: str
) -> None:
    source = invoice(recipient, place)
    drawn = documents.render(documents.of_invoice(source))
    assert every_field(pdf_checks.text(drawn.pdf), source) == []
    assert source.supply == "inter_state" and source.igst_paise > 0


@pytest.mark.parametrize(("recipient", "place"), [(HINDI, "08"), (TAMIL, "33")], ids=["hindi", "tamil"])
def test_nothing_on_an_invoice_is_drawn_outside_its_box(recipient: dict[str, object], place: str) -> None:
    drawn = documents.render(documents.of_invoice(invoice(recipient, place)))
    assert pdf_checks.ink_outside(drawn, keep=f"invoice-{place}") == []
    assert pdf_checks.boxes_off_page(drawn, margin=36) == []


@pytest.mark.parametrize(("recipient", "place"), [(HINDI, "08"), (TAMIL, "33")], ids=["hindi", "tamil"])
def test_the_recipients_name_on_an_invoice_is_drawn_with_its_scripts_shaped_glyphs(
    recipient: dict[str, object], place: str
) -> None:
    drawn = documents.render(documents.of_invoice(invoice(recipient, place)))
    name = next(b for b in drawn.blocks[0] if b.text == recipient["name"])
    script = "Devanagari" if place == "08" else "Tamil"
    shaped, unshaped = pdf_checks.against_pillow(drawn, name, NOTO / f"NotoSans{script}-Bold.ttf")
    assert shaped < 20 < unshaped, (shaped, unshaped)


def test_an_intra_state_invoice_shows_cgst_and_sgst_at_half_the_rate_each() -> None:
    mumbai = dict(HINDI, city="मुंबई", state="महाराष्ट्र", pincode="400001")
    source = invoice(mumbai, "27")
    text = pdf_checks.words(pdf_checks.text(documents.pdf(documents.of_invoice(source))))
    assert source.supply == "intra_state" and "IGST" not in text
    assert every_field(text, source) == []
    assert "Intra-state (CGST + SGST)" in text and "2.5" in text and "6" in text


def test_a_long_invoice_runs_onto_more_pages_each_inside_its_margins_no_description_cut() -> None:
    wordy = "Assam tea, second flush, hand-rolled whole leaf from a single estate near Dibrugarh, "
    goods = [
        replace(TEA, sku=f"TEA-{i:02d}", description=(f"Lot {i}: " + wordy * (i % 4))[:200])
        for i in range(40)
    ]
    drawn = documents.render(documents.of_invoice(invoice(TAMIL, "33", goods)))
    pages = len(drawn.pages)
    assert pages >= 3
    assert pdf_checks.ink_outside(drawn) == [] and pdf_checks.boxes_off_page(drawn, margin=36) == []
    assert [b.text for page in drawn.blocks for b in page if b.cut] == []
    last = pdf_checks.text(drawn.pdf, pages - 1)
    assert f"Page {pages} of {pages}" in last and "Authorised signatory" in last
    everything = pdf_checks.words(" ".join(pdf_checks.text(drawn.pdf, p) for p in range(pages)))
    assert all(pdf_checks.words(g.description) in everything for g in goods)


def test_a_credit_note_cites_its_invoice_number_and_date_and_carries_every_rule_53_field() -> None:
    source = invoice(HINDI, "08")
    line = source.lines[0]
    note = CreditNote(
        credit_note_id="CN-01JF0000000000000000000000",
        number="CN/26-27/000007",
        gstin=source.gstin,
        financial_year=2026,
        serial=7,
        source="return:RET-1",
        reason="return",
        invoice_id=source.invoice_id,
        invoice_number=source.number,
        invoice_date=source.issued_at,
        order_id=source.order_id,
        shipment_id=source.shipment_id,
        return_id="RET-1",
        issued_at=datetime(2027, 1, 2, 6, 0, tzinfo=UTC),
        place_of_supply="08",
        supply="inter_state",
        lines=(line,),
        taxable_paise=line["taxable_paise"],
        cgst_paise=0,
        sgst_paise=0,
        igst_paise=line["igst_paise"],
        total_paise=line["taxable_paise"] + line["igst_paise"],
    )
    drawn = documents.render(documents.of_credit_note(note, source))
    text = pdf_checks.words(pdf_checks.text(drawn.pdf))
    for field in (
        "CREDIT NOTE",
        f"Credit note no. {note.number}",
        "Date 02-01-2027",
        f"Against invoice {source.number} dated 07-12-2026",
        BHIWANDI["legal_name"],
        f"GSTIN {BHIWANDI['gstin']}",
        HINDI["name"],
        "Place of supply Rajasthan (08)",
        f"IGST {documents.money(note.igst_paise)}",
        f"Total credited (₹) {documents.money(note.total_paise)}",
        domain.rupees_in_words(note.total_paise),
        "Goods returned by the customer",
        "Authorised signatory",
    ):
        assert pdf_checks.words(field) in text, field
    assert pdf_checks.ink_outside(drawn, keep="credit-note") == []


def test_money_is_grouped_the_indian_way() -> None:
    assert [documents.money(p) for p in (0, 5, 99999, 12345678, 1234567890, -150)] == [
        "0.00",
        "0.05",
        "999.99",
        "1,23,456.78",
        "1,23,45,678.90",
        "-1.50",
    ]


def test_a_pdf_path_reaches_the_pdf_route_not_the_one_answering_json() -> None:
    from services.invoicing.api import router

    def endpoint(path: str) -> str:
        return next(
            r.endpoint.__name__ for r in router.routes if r.path_regex.match(path) and "GET" in r.methods
        )

    assert endpoint("/invoices/INV-1.pdf") == "invoice_pdf" and endpoint("/invoices/INV-1") == "get_invoice"
    assert endpoint("/credit-notes/CN-1.pdf") == "credit_note_pdf"
