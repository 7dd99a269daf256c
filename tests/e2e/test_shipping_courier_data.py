"""Courier data an operator uploads is what the very next booking uses: shipping keeps rate cards and
serviceability in memory between bookings, and an upload through its HTTP API replaces them there."""

from __future__ import annotations

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from services.shipping.settings import DATA
from tests.conftest import Tap
from tests.e2e.test_shipping_road import ship
from tests.helpers import url

pytestmark = pytest.mark.e2e


def _delhivery_cards(slab_paise: int | None = None) -> str:
    """Delhivery's rows of the demo rate cards, optionally with every weight slab at one price."""
    header, *rows = (DATA / "rate_cards.csv").read_text().strip().splitlines()
    mine = [r.split(",") for r in rows if r.startswith("delhivery,")]
    if slab_paise is not None:
        for row in mine:
            row[3] = row[5] = str(slab_paise)
    return "\n".join([header, *(",".join(row) for row in mine)]) + "\n"


async def _upload_rate_cards(text: str, source: str) -> None:
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("ops")) as http:
        r = await http.post(
            url("shipping", "/couriers/rate-cards"),
            params={"source": source},
            content=text,
            headers={"Content-Type": "text/csv"},
        )
    assert r.status_code == 200, r.text


async def test_a_booking_right_after_a_rate_card_upload_uses_the_new_prices(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    # Gurugram to Jaipur, prepaid: Xpressbees is the cheapest on the demo cards, Delhivery dearest.
    before = await ship(producer, tap, road=False, prepaid=True)
    assert before["courier"] == "xpressbees"
    try:
        await _upload_rate_cards(_delhivery_cards(slab_paise=100), source="discount-test")
        after = await ship(producer, tap, road=False, prepaid=True)
        assert after["courier"] == "delhivery", "the booking used the rate cards from before the upload"
    finally:
        await _upload_rate_cards(_delhivery_cards(), source="rate_cards.csv")
    again = await ship(producer, tap, road=False, prepaid=True)
    assert again["courier"] == "xpressbees", "the restored cards were not used"
