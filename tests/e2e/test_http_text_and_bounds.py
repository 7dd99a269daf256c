"""The four requests the first fuzzing of every API answered with a 500 (issue 20) now answer 422
naming the field: text with NUL is refused by the chassis everywhere, numbers and spans are bounded."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from tests.helpers import unique, url

pytestmark = pytest.mark.e2e

SIZE = {"weight_grams": 270, "length_cm": 1.2e308, "breadth_cm": 10, "height_cm": 5}
MANIFEST = {"warehouse_code": "BOM\x001", "courier": "delhivery", "pickup_date": "2026-12-06"}


@pytest.mark.parametrize(
    ("service", "method", "path", "body", "field"),
    [
        ("shipping", "PUT", "/skus/{sku}/dimensions", SIZE, "length_cm"),
        ("shipping", "POST", "/manifests", MANIFEST, "warehouse_code"),
        ("notifications", "GET", "/messages?order_id=ORD-1%00", None, "order_id"),
        ("returns", "GET", "/returns/analytics?days=10496489389952", None, "days"),
    ],
)
async def test_what_made_a_server_error_is_refused_naming_the_field(
    stack: Stack, service: str, method: str, path: str, body: Any, field: str
) -> None:
    async with httpx.AsyncClient(timeout=10, headers=dev_headers()) as http:
        r = await http.request(method, url(service, path.format(sku=unique("FUZZ"))), json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid request"
    assert [p["field"] for p in r.json()["problems"]] == [field]
