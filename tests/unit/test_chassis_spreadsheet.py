"""Uploaded CSV files: the line endings spreadsheets write are read; what cannot be read is a 422
naming the body, never a server error (the deep fuzz run found both imports answering 500)."""

from __future__ import annotations

import pytest

from chassis.refusal import Refusal
from chassis.spreadsheet import read_rows
from services.channels import domain
from services.inventory.items import model as items


def test_cr_crlf_and_lf_line_endings_read_the_same_rows() -> None:
    for ending in ("\n", "\r\n", "\r"):
        header, rows = read_rows(ending.join(["sku,name", "TEA,Assam tea", "MUG,Mug"]) + ending)
        assert header == ["sku", "name"]
        assert [r["sku"] for r in rows] == ["TEA", "MUG"]


def test_a_quoted_cell_keeps_its_own_line_break() -> None:
    _, rows = read_rows('sku,name\r\nTEA,"Assam\r\ntea"\r\n')
    assert rows == [{"sku": "TEA", "name": "Assam\r\ntea"}]


def test_a_cell_over_the_csv_field_limit_is_refused_naming_the_body_and_the_line() -> None:
    with pytest.raises(Refusal) as refused:
        read_rows("sku,name\nTEA," + "x" * 200_000 + "\n")
    assert refused.value.field == "body"
    assert "line 2" in refused.value.problem


@pytest.mark.parametrize("text", ["sku,name\rTEA-\r", "\r\r,\r", "sku\r\n\rx", "a,b\nc," + "y" * 140_000])
def test_neither_import_fails_on_what_the_fuzzer_sent(text: str) -> None:
    for parse in (items.parse_csv, domain.parse_csv):
        try:
            parse(text)
        except Refusal as refused:
            assert refused.field == "body"
