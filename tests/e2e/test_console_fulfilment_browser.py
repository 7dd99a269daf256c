"""The fulfilment screen in a real headless Chromium through the real stack (ADR 380): a viewer is
refused taking the pick list by shipping; a warehouse operator sees the parcel in the preview, takes
it (shipping records them as its picker), downloads its label, packs it from the pick list, prints
the queue's labels and creates the manifest from the queue's bulk bar, and gets the manifest PDF."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from playwright.async_api import Browser, Page, expect

from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from tests.conftest import Tap, body_has
from tests.e2e.test_console_browser import CONSOLE, SHOTS, browser, prepaid_for, sign_in
from tests.e2e.test_journeys import WAREHOUSE, stocked
from tests.helpers import unique, url, wait_until

pytestmark = pytest.mark.e2e
__all__ = ["browser"]  # the browser fixture, shared with the console's other browser tests


async def shipping_status(shipment_id: str) -> dict[str, object]:
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        answer = await http.get(url("shipping", f"/shipments/{shipment_id}"))
    assert answer.status_code == 200, answer.text
    found: dict[str, object] = answer.json()
    return found


async def floor_shows(page: Page, section: str, shipment_id: str, text: str = "") -> None:
    """Open the warehouse's fulfilment page until `section` lists the parcel (with `text` in its row):
    the preview is shipping's, the order's facts are the read model's, which follows the topics."""

    async def shown() -> bool | None:
        await page.goto(f"{CONSOLE}/fulfilment?{urlencode({'warehouse': WAREHOUSE})}")
        row = page.locator(f"#{section} [data-shipment='{shipment_id}']")
        return True if await row.count() and text in await row.inner_text() else None

    await wait_until(shown, what=f"{shipment_id} in {section} with {text!r}", timeout=90, every=1)


async def take_only(page: Page, shipment_id: str) -> None:
    await page.get_by_label("Tick every parcel to pick").uncheck()
    await page.get_by_label(f"Tick {shipment_id}").check()
    await page.get_by_role("button", name="Take the ticked parcels").click()


async def test_a_warehouse_takes_a_pick_list_prints_its_label_packs_and_manifests_it_and_a_viewer_cannot(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer, browser: Browser
) -> None:
    sku = unique("BRW-PICK")
    await stocked(sku, 10)
    customer = unique("Pick")
    order_id = await prepaid_for(producer, tap, sku, customer)
    created = await tap.wait_for("shipping.shipment_created.v1", body_has(order_id=order_id), timeout=90)
    shipment_id = json.loads(created[0].value)["shipment_id"]

    async def booked() -> bool | None:
        return True if (await shipping_status(shipment_id))["status"] == "AWB_ASSIGNED" else None

    await wait_until(booked, what=f"{shipment_id} booked", timeout=90, every=1)

    viewer = await sign_in(browser, "vikram")
    await floor_shows(viewer, "to-pick", shipment_id)
    await take_only(viewer, shipment_id)
    await expect(viewer.get_by_role("alert")).to_contain_text("forbidden")
    assert (await shipping_status(shipment_id))["status"] == "AWB_ASSIGNED"  # shipping refused it

    page = await sign_in(browser, "ravi")  # the warehouse role
    await floor_shows(page, "to-pick", shipment_id, text=sku)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=str(SHOTS / "fulfilment-phone.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await take_only(page, shipment_id)
    await expect(page.get_by_role("status")).to_have_text(
        "1 of 1 parcels picked by warehouse:ravi: print the list"
    )
    await expect(page.locator("#picker")).to_have_text("warehouse:ravi")
    listed = page.locator(f"tr[data-shipment='{shipment_id}']")
    await expect(listed).to_contain_text(f"2× {sku}")
    await page.screenshot(path=str(SHOTS / "pick-list.png"), full_page=True)
    parcel = await shipping_status(shipment_id)
    assert (parcel["status"], parcel["picked_by"]) == ("PICKED", "warehouse:ravi")

    label = await page.request.get(
        CONSOLE + (await listed.get_by_role("link", name="Label").get_attribute("href") or "")
    )
    assert label.status == 200 and label.headers["content-type"] == "application/pdf"
    assert (await label.body()).startswith(b"%PDF")

    await listed.get_by_role("link", name="Pack").click()
    for _ in range(2):
        await page.get_by_label("Barcode").fill(sku)
        await page.get_by_label("Barcode").press("Enter")
        await expect(page.get_by_role("status")).to_contain_text(f"{sku} in the box")
    await page.get_by_label("Weight in grams").fill("640")
    await page.get_by_label("Weight in grams").press("Enter")
    await expect(page.get_by_role("status")).to_contain_text("packed at 640 g")
    await floor_shows(page, "packed", shipment_id)  # the read model has the parcel packed

    # The queue's bulk bar: the ticked order's labels in one PDF, then its manifest.
    await page.goto(f"{CONSOLE}/orders?{urlencode({'search': customer})}")
    await page.locator(f"tr[data-order='{order_id}'] input[type=checkbox]").check()
    async with page.expect_response(lambda r: "/fulfilment/labels.pdf?" in r.url) as shown:
        await page.get_by_role("button", name="Print labels").click()
    labels = await shown.value  # the browser opens it in its PDF viewer, to print
    assert labels.status == 200 and labels.headers["content-type"] == "application/pdf"
    assert (await (await page.request.get(labels.url)).body()).startswith(b"%PDF")

    await page.goto(f"{CONSOLE}/orders?{urlencode({'search': customer})}")
    await page.locator(f"tr[data-order='{order_id}'] input[type=checkbox]").check()
    await page.get_by_role("button", name="Create manifest").click()
    await expect(page.get_by_role("status")).to_contain_text("manifest MAN-")
    manifest = page.locator("#manifests a").first
    fetched = await page.request.get(CONSOLE + (await manifest.get_attribute("href") or ""))
    assert fetched.status == 200 and fetched.headers["content-type"] == "application/pdf"
    assert (await fetched.body()).startswith(b"%PDF")
    manifested = await shipping_status(shipment_id)
    assert manifested["status"] == "MANIFESTED" and manifested["manifest_id"] in await manifest.inner_text()
