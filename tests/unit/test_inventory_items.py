"""The item master's rules: real barcodes, HSN codes, and CSV imports that name row and column."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.inventory.items import model as items


@pytest.mark.parametrize(
    "code", ["8901030865275", "4006381333931", "036000291452", "96385074", "10012345678902"]
)
def test_real_ean_upc_and_gtin_barcodes_pass_the_check_digit(code: str) -> None:
    assert items.gtin_is_valid(code)


@pytest.mark.parametrize("code", ["8901030865278", "03600029145", "ABCDEFGHIJKLM", ""])
def test_a_mistyped_barcode_is_refused(code: str) -> None:
    assert not items.gtin_is_valid(code)


def test_an_item_names_every_bad_field() -> None:
    with pytest.raises(ValidationError) as caught:
        items.Item(
            sku="TEA", name="Tea", weight_grams=0, mrp_paise=100, barcode="8901030865278", hsn_code="09"
        )
    assert sorted(f for f, _ in items.problems_of(caught.value)) == ["barcode", "hsn_code", "weight_grams"]


GOOD = """sku,name,category,barcode,weight_grams,length_mm,width_mm,height_mm,hsn_code,mrp_paise
TEA-ASSAM-250,Assam tea 250 g,tea,8901030865275,270,120,80,60,0902,34900
KURTA-M,Cotton kurta M,apparel,,350,,,,6206,129900
"""


def test_a_csv_of_the_catalogue_reads_into_items() -> None:
    found, problems = items.parse_csv(GOOD)
    assert problems == []
    assert [(i.sku, i.barcode, i.hsn_code, i.mrp_paise) for i in found] == [
        ("TEA-ASSAM-250", "8901030865275", "0902", 34900),
        ("KURTA-M", None, "6206", 129900),
    ]


def test_a_bad_csv_names_the_row_a_spreadsheet_shows_and_the_column() -> None:
    bad = (
        GOOD + "CABLE-USBC,USB-C cable,electronics,123,-5,,,,85444299,x\nTEA-ASSAM-250,dup,tea,,100,,,,,100\n"
    )
    found, problems = items.parse_csv(bad)
    fields = [f for f, _ in problems]
    assert fields == ["row 4.barcode", "row 4.weight_grams", "row 4.mrp_paise", "row 5.sku"]
    assert "already appears on row 2" in problems[-1][1]
    assert len(found) == 2


def test_a_csv_without_required_columns_is_refused_by_its_header() -> None:
    _, problems = items.parse_csv("sku,title\nA,B\n")
    assert problems == [
        ("header", "missing column(s): name, weight_grams, mrp_paise"),
        ("header", "unknown column(s): title"),
    ]
