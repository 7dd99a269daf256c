"""The label and the manifest in the customer's own script: shaped, wrapped inside their boxes, and
giving back, as text, exactly what the customer typed (issue 19, ADR 390)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from services.shipping import documents
from tests import pdf_checks

NOTO = Path("/usr/share/fonts/truetype/noto")
WAREHOUSE = documents.Party(
    name="Acme Retail Pvt Ltd (BHW1)",
    lines=("Gala 12, Rajlaxmi Logistics Park, Vadpe", "Bhiwandi, Maharashtra"),
    pincode="421302",
    phone="02522 123456",
)
HINDI = documents.Party(
    name="श्रीमती प्रिया शर्मा",
    lines=("फ्लैट 402, श्री गणेश अपार्टमेंट, क्षेत्रीय मार्ग, मालवीय नगर", "जयपुर, राजस्थान"),
    pincode="302017",
    phone="9829012345",
)
TAMIL = documents.Party(
    name="திருமதி லக்ஷ்மி கிருஷ்ணன்",
    lines=("14, பெரியார் தெரு, மயிலாப்பூர்", "சென்னை, தமிழ்நாடு"),
    pincode="600004",
    phone="9840012345",
)


def label(ship_to: documents.Party, **changes: object) -> documents.Label:
    fields: dict[str, object] = {
        "courier": "delhivery",
        "awb": "1490817263541",
        "routing_code": "JAI/MLV",
        "order_id": "ORD-20261207-000123",
        "shipment_id": "SHP-000123-1",
        "ship_to": ship_to,
        "ship_from": WAREHOUSE,
        "cod_amount_paise": 129_900,
        "value_paise": 129_900,
        "weight_grams": 450,
        "items": (("TEA-ASSAM-250", 2), ("MUG-STEEL", 1)),
    }
    fields.update(changes)
    return documents.Label(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("who", [HINDI, TAMIL], ids=["hindi", "tamil"])
def test_a_label_gives_back_the_customers_name_and_address_as_typed(who: documents.Party) -> None:
    drawn = documents.label_document(label(who))
    text = pdf_checks.words(pdf_checks.text(drawn.pdf))
    assert who.name in text
    assert pdf_checks.words(" ".join(who.lines)) in text
    assert f"PIN {who.pincode}" in text and "COD: COLLECT ₹1,299.00" in text


@pytest.mark.parametrize("who", [HINDI, TAMIL], ids=["hindi", "tamil"])
def test_nothing_on_a_label_is_drawn_outside_its_box(who: documents.Party) -> None:
    drawn = documents.label_document(label(who))
    assert pdf_checks.ink_outside(drawn, keep=f"label-{who.pincode}") == []
    for block in drawn.blocks[0]:
        assert block.ink is None or block.box.contains(block.ink), block.text


@pytest.mark.parametrize(("who", "script"), [(HINDI, "Devanagari"), (TAMIL, "Tamil")], ids=["hindi", "tamil"])
def test_the_customers_name_on_the_label_is_drawn_with_its_scripts_shaped_glyphs(
    who: documents.Party, script: str
) -> None:
    drawn = documents.label_document(label(who))
    name = next(b for b in drawn.blocks[0] if b.text == who.name)
    shaped, unshaped = pdf_checks.against_pillow(drawn, name, NOTO / f"NotoSans{script}-Bold.ttf")
    assert shaped < 20 < unshaped, (shaped, unshaped)


def test_an_address_too_long_for_the_label_shrinks_and_wraps_instead_of_running_off_its_edge() -> None:
    street = "फ्लैट 402, श्री गणेश अपार्टमेंट, क्षेत्रीय मार्ग, मालवीय नगर, " * 4
    long = documents.Party(name=HINDI.name * 3, lines=(street, "जयपुर, राजस्थान"), pincode="302017", phone="")
    drawn = documents.label_document(label(long, items=tuple((f"SKU-{i}", i) for i in range(1, 12))))
    assert pdf_checks.ink_outside(drawn, keep="label-long") == []
    address = next(b for b in drawn.blocks[0] if b.text.startswith("फ्लैट"))
    assert address.size < 10 and len(address.lines) > 2 and not address.cut
    assert pdf_checks.words(street + " जयपुर, राजस्थान") in pdf_checks.words(pdf_checks.text(drawn.pdf))
    assert "... and 6 more line(s)" in pdf_checks.text(drawn.pdf)


def test_a_manifest_lists_destinations_in_their_own_script_inside_their_columns() -> None:
    rows = tuple(
        documents.ManifestRow(
            awb=f"14908172635{i:02d}",
            order_id=f"ORD-20261207-{i:06d}",
            destination=city,
            cod_amount_paise=0 if i % 2 else 129_900,
            weight_grams=450,
            units=2,
        )
        for i, city in enumerate(["जयपुर 302017", "சென்னை 600004", "কলকাতা 700019", "અમદાવાદ 380009"] * 4)
    )
    drawn = documents.manifest_document(
        documents.Manifest(
            manifest_id="MAN-BHW1-DELHIVERY-20261207",
            courier="delhivery",
            warehouse="BHW1 Acme Retail, Bhiwandi",
            pickup_date=date(2026, 12, 7),
            created_at=datetime(2026, 12, 7, 5, 0, tzinfo=UTC),
            rows=rows,
        )
    )
    assert len(drawn.pages) == 2
    assert pdf_checks.ink_outside(drawn, keep="manifest") == []
    text = pdf_checks.text(drawn.pdf, 0) + pdf_checks.text(drawn.pdf, 1)
    for city in ("जयपुर 302017", "சென்னை 600004", "কলকাতা 700019", "અમદાવાદ 380009"):
        assert city in text
    assert "COD to collect: ₹10,392.00" in text
