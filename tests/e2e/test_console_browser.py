"""The console in a real headless Chromium (Playwright driving Debian's chromium) through the real
stack: sign in, a new channel order appears in the queue without a reload, COD confirmed with a
click, a wrong unit refused at the pack station. Screenshots land in docs/screenshots/."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from deploy.local.ports import PORTS, dev_headers
from deploy.local.stack import Stack
from tests.conftest import Tap, body_has
from tests.e2e.test_journeys import order_status, place, stocked
from tests.helpers import unique, url, wait_until

pytestmark = pytest.mark.e2e
CONSOLE = f"http://127.0.0.1:{PORTS['console']}"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

if not Path(CHROMIUM).exists():  # `make test` installs it (apt-get); only a machine that cannot skips
    pytest.skip(
        "chromium is not installed and `make browser` could not install it (needs root and apt-get)",
        allow_module_level=True,
    )

from playwright.async_api import Browser, Page, async_playwright, expect  # noqa: E402


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        await chromium.close()


async def sign_in(browser: Browser, name: str) -> Page:
    page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
    await page.goto(f"{CONSOLE}/login")
    await page.get_by_label("User name").fill(name)
    await page.get_by_label("Password").fill(f"dev-{name}-local")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("link", name="Pack station")).to_be_visible()
    return page


async def test_an_operator_sees_a_new_order_live_confirms_cod_and_packs_it(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer, browser: Browser
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    sku = unique("BRW-TEA")
    await stocked(sku, 10)
    page = await sign_in(browser, "asha")
    await expect(page).to_have_url(f"{CONSOLE}/orders")
    await page.wait_for_timeout(1500)  # the live queue's event stream is connected

    order_id, order = await place(producer, tap, sku, phone="+919812300077", cod=True)
    row = page.locator(f"tr[data-order='{order_id}']")
    await expect(row).to_be_visible(timeout=60_000)  # no reload: server-sent events
    await page.screenshot(path=str(SHOTS / "queue.png"))

    await order_status(order_id, "PENDING_COD_CONFIRMATION")
    await row.get_by_role("link").first.click()
    await expect(page.locator("#order-status")).to_have_text("PENDING_COD_CONFIRMATION", timeout=30_000)
    await page.get_by_role("button", name="Confirm COD").click()
    await expect(page.get_by_role("status")).to_have_text("done")
    await order_status(order_id, "CONFIRMED")

    created = await tap.wait_for("shipping.shipment_created.v1", body_has(order_id=order_id), timeout=90)
    shipment_id = json.loads(created[0].value)["shipment_id"]

    async def booked() -> bool | None:
        await page.reload()
        return True if await page.get_by_role("link", name="Pack at the station").count() else None

    await wait_until(booked, what="the parcel booked in the console", timeout=90, every=1)
    await expect(page.get_by_text("by ops:asha")).to_be_visible()
    await page.screenshot(path=str(SHOTS / "order.png"), full_page=True)

    await page.get_by_role("link", name="Pack at the station").click()
    scan = page.get_by_label("Barcode")
    await scan.fill("NOT-IN-THIS-BOX")
    await scan.press("Enter")  # what a USB scanner types
    await expect(page.get_by_role("alert")).to_contain_text("is not in this shipment")
    for _ in range(2):
        await page.get_by_label("Barcode").fill(sku)
        await page.get_by_label("Barcode").press("Enter")
        await expect(page.get_by_role("status")).to_contain_text(f"{sku} in the box")
    await page.screenshot(path=str(SHOTS / "pack-station.png"))
    await page.get_by_label("Weight in grams").fill("640")
    await page.get_by_label("Weight in grams").press("Enter")
    await expect(page.get_by_role("status")).to_contain_text("packed at 640 g")

    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        parcel = (await http.get(url("shipping", f"/shipments/{shipment_id}"))).json()
    assert parcel["status"] == "PACKED"
    assert order["channel_order_id"]


async def test_a_viewer_clicking_an_action_is_refused_by_the_owning_service(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer, browser: Browser
) -> None:
    sku = unique("BRW-VW")
    await stocked(sku, 10)
    order_id, _ = await place(producer, tap, sku, phone="+919812300078", cod=True)
    await order_status(order_id, "PENDING_COD_CONFIRMATION")
    page = await sign_in(browser, "vikram")

    async def shown() -> bool | None:
        await page.goto(f"{CONSOLE}/orders/{order_id}")
        return True if await page.get_by_role("button", name="Confirm COD").count() else None

    await wait_until(shown, what="the COD order in the console", timeout=60, every=1)
    await page.get_by_role("button", name="Confirm COD").click()
    await expect(page.get_by_role("alert")).to_contain_text("forbidden")
    await asyncio.sleep(0.5)
    await order_status(order_id, "PENDING_COD_CONFIRMATION")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(f"{CONSOLE}/orders")
    await page.screenshot(path=str(SHOTS / "queue-phone.png"))
