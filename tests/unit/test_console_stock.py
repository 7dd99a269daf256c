"""The console's stock screen decides purely: a SKU's rows from inventory's announcement (old
announcements without levels included), which rows are low, the newest announcement of a batch, and
what a receive, adjust or transfer form asks inventory, naming the field when the input is not one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts import StockChanged, StockLevels
from services.console.domain.stock import (
    decode_cursor,
    encode_cursor,
    latest,
    levels_answer,
    levels_request,
    rows_of,
    stock_answer,
    stock_request,
)

AT = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def announced(sku: str = "TEA-ASSAM-250", at: datetime = AT, **by_warehouse: int) -> StockChanged:
    return StockChanged(
        sku=sku, available_total=sum(by_warehouse.values()), by_warehouse=by_warehouse, changed_at=at
    )


def test_a_sku_shows_on_hand_reserved_buffer_and_available_per_warehouse() -> None:
    event = announced(BOM1=38, GGN1=0).model_copy(
        update={
            "levels": {
                "BOM1": StockLevels(on_hand=45, reserved=5, buffer=2, reorder_point=10),
                "GGN1": StockLevels(on_hand=3, reserved=3, buffer=0, reorder_point=5),
            }
        }
    )
    bom, ggn = rows_of(event)
    assert (bom.warehouse_code, bom.on_hand, bom.reserved, bom.buffer, bom.available) == (
        "BOM1",
        45,
        5,
        2,
        38,
    )
    assert not bom.low
    assert ggn.low  # 0 available is at or below its reorder point of 5, inventory's own rule


def test_an_announcement_from_before_the_levels_shows_available_alone_and_is_never_low() -> None:
    (row,) = rows_of(announced(BOM1=4))
    assert (row.available, row.on_hand, row.reserved, row.buffer, row.reorder_point) == (
        4,
        None,
        None,
        None,
        None,
    )
    assert not row.low


def test_the_newest_announcement_of_each_sku_wins_whatever_order_the_batch_holds() -> None:
    old, new = announced(at=AT, BOM1=1), announced(at=AT + timedelta(seconds=1), BOM1=2)
    other = announced(sku="MUG-1", BOM1=9)
    assert latest([new, other, old]) == {"TEA-ASSAM-250": new, "MUG-1": other}
    assert latest([old, new]) == {"TEA-ASSAM-250": new}


def test_a_stock_page_cursor_names_the_last_row_and_a_forged_one_is_refused() -> None:
    assert decode_cursor(encode_cursor("TEA-1", "BOM1")) == ("TEA-1", "BOM1")
    for forged in ("not base64!", encode_cursor("", "BOM1"), "dGVhAA=="):
        with pytest.raises(ValueError, match="not one this console gave out"):
            decode_cursor(forged)


def test_a_receipt_an_adjustment_and_a_transfer_become_inventorys_bodies() -> None:
    form = {"sku": " TEA-1 ", "warehouse_code": "BOM1", "quantity": "12", "reference": "PO-7"}
    assert stock_request("receive", form) == (
        "/stock/receipts",
        {"sku": "TEA-1", "warehouse_code": "BOM1", "quantity": 12, "reference": "PO-7"},
        [],
    )
    form = {"sku": "TEA-1", "warehouse_code": "BOM1", "reason": "damage", "delta": "-2", "note": ""}
    assert stock_request("adjust", form) == (
        "/stock/adjustments",
        {"sku": "TEA-1", "warehouse_code": "BOM1", "reason": "damage", "delta": -2, "note": None},
        [],
    )
    form = {"sku": "TEA-1", "from_warehouse": "BOM1", "to_warehouse": "BLR1", "quantity": "3"}
    path, body, problems = stock_request("transfer", form)
    assert (path, problems) == ("/stock/transfers", [])
    assert body == {
        "sku": "TEA-1",
        "from_warehouse": "BOM1",
        "to_warehouse": "BLR1",
        "quantity": 3,
        "reference": None,
    }


@pytest.mark.parametrize(
    ("action", "form", "problem"),
    [
        (
            "receive",
            {"sku": "T", "warehouse_code": "BOM1", "quantity": "-3"},
            ("quantity", "'-3' is not a whole"),
        ),
        (
            "receive",
            {"sku": "T", "warehouse_code": "BOM1", "quantity": "0"},
            ("quantity", "must be more than 0"),
        ),
        ("receive", {"sku": "T", "warehouse_code": "", "quantity": "2"}, ("warehouse_code", "required")),
        (
            "receive",
            {"sku": "T", "warehouse_code": "BOM 1", "quantity": "2"},
            ("warehouse_code", "'BOM 1' is not a code"),
        ),
        (
            "adjust",
            {"sku": "T", "warehouse_code": "BOM1", "reason": "theft", "delta": "-1"},
            ("reason", "'theft' is not one of"),
        ),
        (
            "adjust",
            {"sku": "T", "warehouse_code": "BOM1", "reason": "loss", "delta": "two"},
            ("delta", "'two' is not a whole"),
        ),
        (
            "adjust",
            {"sku": "T", "warehouse_code": "BOM1", "reason": "loss", "delta": "0"},
            ("delta", "must not be 0"),
        ),
        (
            "transfer",
            {"sku": "T", "from_warehouse": "BOM1", "to_warehouse": "BOM1", "quantity": "1"},
            ("to_warehouse", "must differ"),
        ),
        ("count", {"sku": "T"}, ("action", "'count' is not one of receive, adjust, transfer")),
    ],
)
def test_a_form_that_is_not_one_names_its_field_and_asks_inventory_nothing(
    action: str, form: dict[str, str], problem: tuple[str, str]
) -> None:
    _, body, problems = stock_request(action, form)
    assert body is None
    assert any(field == problem[0] and text.startswith(problem[1]) for field, text in problems), problems


def test_inventorys_answer_says_the_touched_warehouses_numbers_now() -> None:
    answer = {
        "sku": "TEA-1",
        "warehouses": [
            {"warehouse_code": "BLR1", "on_hand": 1, "available": 1},
            {"warehouse_code": "BOM1", "on_hand": 15, "available": 13},
        ],
    }
    body = {"sku": "TEA-1", "warehouse_code": "BOM1", "quantity": 5}
    assert stock_answer("receive", body, answer) == "received 5 × TEA-1: BOM1 on hand 15, available 13"
    body = {"sku": "TEA-1", "warehouse_code": "BOM1", "reason": "loss", "delta": -2}
    assert stock_answer("adjust", body, answer) == "adjusted TEA-1 by -2: BOM1 on hand 15, available 13"


def test_the_levels_form_sets_a_buffer_or_reorder_point_in_one_warehouse_or_every_one() -> None:
    form = {"sku": "TEA-1", "warehouse_code": "BOM1", "buffer": "", "reorder_point": "20"}
    assert levels_request(form) == (
        "/stock/TEA-1/levels",
        {"warehouse_codes": ["BOM1"], "buffer": None, "reorder_point": 20},
        [],
    )
    form = {"sku": "TEA-1", "warehouse_code": "", "buffer": "2", "reorder_point": ""}
    assert levels_request(form) == (
        "/stock/TEA-1/levels",
        {"warehouse_codes": None, "buffer": 2, "reorder_point": None},
        [],
    )
    assert levels_request({"sku": "TEA-1"})[2] == [("buffer", "give a buffer, a reorder point or both")]
    assert levels_request({"sku": "TEA-1", "buffer": "-1"})[2] == [
        ("buffer", "'-1' is not a whole number of units, e.g. 0 or 20")
    ]
    answer = {"warehouses": [{"warehouse_code": "BOM1", "buffer": 2, "reorder_point": None}]}
    assert (
        levels_answer("TEA-1", {"warehouse_codes": None}, answer)
        == "levels of TEA-1 set: BOM1 buffer 2, reorder at —"
    )
