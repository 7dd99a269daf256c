"""Bad input over HTTP gets a 4xx that names every field and its problem, and writes nothing."""

from __future__ import annotations

import httpx
import pytest

from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from tests.helpers import unique, url

pytestmark = pytest.mark.e2e


async def test_a_negative_quantity_and_an_empty_sku_are_both_named(stack: Stack) -> None:
    sku = unique("ERR")
    async with httpx.AsyncClient(timeout=10, headers=dev_headers()) as http:
        r = await http.post(
            url("inventory", "/stock/receipts"), json={"sku": "", "warehouse_code": "BOM1", "quantity": -3}
        )
        assert r.status_code == 422
        assert {p["field"] for p in r.json()["problems"]} == {"sku", "quantity"}
        assert (await http.get(url("inventory", f"/stock/{sku}"))).status_code == 404


async def test_malformed_json_is_refused_with_where_it_broke(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10, headers=dev_headers()) as http:
        r = await http.post(
            url("inventory", "/stock/receipts"),
            content=b'{"sku": "X",',
            headers={"content-type": "application/json"},
        )
    assert r.status_code == 422
    [problem] = r.json()["problems"]
    assert problem["field"] == "body"
    assert "malformed JSON at character 12" in problem["problem"]


async def test_a_warehouse_with_a_pincode_that_does_not_exist_is_refused(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10, headers=dev_headers()) as http:
        r = await http.put(
            url("routing", "/warehouses/JAI9"), json={"code": "JAI9", "name": "Jaipur", "pincode": "999999"}
        )
        assert r.status_code == 422
        assert r.json()["problems"] == [
            {"field": "pincode", "problem": "999999 is not a known Indian pincode"}
        ]
        codes = {w["code"] for w in (await http.get(url("routing", "/warehouses"))).json()["items"]}
    assert "JAI9" not in codes


async def test_a_return_for_an_order_that_was_never_delivered_says_why(stack: Stack) -> None:
    body = {
        "order_id": unique("ORD-NOPE"),
        "lines": [{"sku": "TEA-ASSAM-250", "quantity": 1, "reason": "damaged"}],
    }
    async with httpx.AsyncClient(timeout=10, headers=dev_headers()) as http:
        r = await http.post(url("returns", "/returns"), json=body)
    assert r.status_code == 422
    assert r.json()["error"] == "not eligible for return"
    assert r.json()["problems"][0]["field"] == "order_id"


async def test_a_running_service_refuses_a_call_without_a_key_and_a_viewer_writing(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.get(url("orders", "/orders"))
        assert r.status_code == 401
        assert r.json()["problems"][0]["field"] == "X-API-Key"
        r = await http.post(
            url("inventory", "/stock/receipts"),
            json={"sku": unique("AUTH"), "warehouse_code": "BOM1", "quantity": 5},
            headers=dev_headers("viewer"),
        )
        assert r.status_code == 403
        assert (await http.get(url("orders", "/orders"), headers=dev_headers("viewer"))).status_code == 200
