"""Fixing a rejected order in the console: the channel's payload as form fields and back."""

from __future__ import annotations

from services.console.domain.fix import form_values, resubmission

RECEIVED = {
    "channel": "shopify",
    "channel_order_id": "SHP-9",
    "customer": {"name": "Asha Verma", "phone": "98123 45678", "email": None},
    "shipping_address": {"line1": "12 MI Road", "city": "Jaipur", "state": "Kerala", "pincode": "302001"},
    "lines": [{"sku": "TEA-ASSAM-250", "quantity": 2, "unit_price_paise": 34900}],
    "total_paise": 69800,
    "payment": {"method": "cod", "status": "pending", "amount_paise": 69800},
}


def test_a_rejected_payload_fills_the_form_with_one_blank_line_row_to_spare() -> None:
    values, rows = form_values(RECEIVED)
    assert rows == 2
    assert values["shipping_address.state"] == "Kerala"
    assert values["customer.email"] == "" and values["shipping_fee_paise"] == "0"
    assert values["lines.0.quantity"] == "2" and "lines.1.sku" not in values


def test_a_payload_of_the_wrong_shape_gives_an_empty_form_not_an_error() -> None:
    values, rows = form_values({"customer": "nobody", "lines": "none"})
    assert rows == 1 and values["customer.name"] == "" and values["delivery_speed"] == "standard"
    assert form_values(None)[1] == 1


def test_the_corrected_form_becomes_the_resubmission_body() -> None:
    values, rows = form_values(RECEIVED)
    body, problems = resubmission(values | {"shipping_address.state": "Rajasthan"}, rows)
    assert problems == []
    assert body["shipping_address"] == {
        "line1": "12 MI Road",
        "line2": None,
        "landmark": None,
        "city": "Jaipur",
        "state": "Rajasthan",
        "pincode": "302001",
    }
    assert body["lines"] == [{"sku": "TEA-ASSAM-250", "quantity": 2, "unit_price_paise": 34900}]
    assert body["customer"]["email"] is None and body["total_paise"] == 69800
    assert body["payment"] == {
        "method": "cod",
        "status": "pending",
        "amount_paise": 69800,
        "gateway": None,
        "gateway_payment_id": None,
    }


def test_text_in_a_money_field_and_no_lines_are_named_by_field() -> None:
    values, rows = form_values(RECEIVED)
    bad = values | {
        "total_paise": "698.00",
        "lines.0.sku": "",
        "lines.0.quantity": "",
        "lines.0.unit_price_paise": "",
    }
    _, problems = resubmission(bad, rows)
    assert problems == [
        ("total_paise", "'698.00' is not a whole number"),
        ("lines", "at least one line: a SKU, its quantity and unit price"),
    ]
