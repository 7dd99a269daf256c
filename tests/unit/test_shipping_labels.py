"""Shipping prints several parcels' labels as one PDF, a 4×6 page each in the order asked, so the
warehouse prints a batch in one go (ADR 380)."""

from __future__ import annotations

import pypdfium2

from services.shipping.documents import LABEL_SIZE, Label, Party, labels_pdf

HOME = Party("Asha Verma", ("12 MI Road", "Jaipur, Rajasthan"), "302001", "+919812345678")
STORE = Party("Bhiwandi", ("Plot 4", "Bhiwandi, Maharashtra"), "421302", "+912212345678")


def label(awb: str) -> Label:
    return Label("delhivery", awb, "JAI/01", "ORD-1", f"SHP-{awb}", HOME, STORE, 0, 34900, 500, (("TEA", 1),))


def test_three_labels_make_one_pdf_of_three_label_sized_pages_in_the_order_asked() -> None:
    pdf = pypdfium2.PdfDocument(labels_pdf([label("A1"), label("B2"), label("C3")], title="3 labels"))
    assert len(pdf) == 3
    assert [round(x) for x in pdf[0].get_size()] == [round(x) for x in LABEL_SIZE]
    texts = [pdf[i].get_textpage().get_text_range() for i in range(3)]
    assert ["AWB A1" in texts[0], "AWB B2" in texts[1], "AWB C3" in texts[2]] == [True, True, True]
