"""The console in a real headless Chromium (Playwright driving Debian's chromium) through the real
stack: sign in, a new channel order appears in the queue without a reload, COD confirmed with a
click, a wrong unit refused at the pack station, a rejected order fixed and resubmitted, an NDR
answered, a return received and QC'd, a viewer refused by the owner, a form without its CSRF token
refused, a customer's name in Hindi drawn in Devanagari (not boxes), COD orders confirmed in bulk,
stock received, a negative count refused and a viewer refused at the stock screen.
Screenshots land in docs/screenshots/."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from playwright.async_api import Browser, Page, async_playwright, expect

from deploy.local.ports import PORTS, dev_headers
from deploy.local.stack import Stack
from services.shipping.domain import shipment_id_for
from tests.conftest import Tap, body_has
from tests.e2e.test_journeys import (
    WAREHOUSE,
    client,
    customer_confirms_cod,
    delivered,
    new_phone,
    order_status,
    place,
    receive_and_pass,
    road,
    sandbox,
    stocked,
)
from tests.helpers import channel_order, encode, seed_stock, unique, url, wait_until

pytestmark = pytest.mark.e2e
CONSOLE = f"http://127.0.0.1:{PORTS['console']}"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
INSTALLED = Path(CHROMIUM).exists()
IST = ZoneInfo("Asia/Kolkata")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    # Never skipped: a machine without the browser fails here, saying how to get it.
    if not INSTALLED:
        pytest.fail(
            f"chromium is not installed at {CHROMIUM}: `make browser` installs it with apt-get (needs root); "
            "elsewhere install Debian's or your distribution's chromium package",
            pytrace=False,
        )
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        await chromium.close()


async def place_for(
    producer: AIOKafkaProducer, tap: Tap, sku: str, customer: str
) -> tuple[str, dict[str, Any]]:
    """A Shopify COD order of two units for a named customer; its order id and what was sent."""
    channel_order_id = unique("SHP-LIVE")
    sent = channel_order(
        channel_order_id,
        sku,
        customer={"name": customer, "phone": new_phone()},
        payment={"method": "cod", "status": "pending", "gateway": None, "gateway_payment_id": None}
        | {"amount_paise": 69800},
    )
    await producer.send_and_wait(
        "channel.orders.v1", encode(sent), key=f"shopify:{channel_order_id}".encode()
    )
    placed = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=channel_order_id), timeout=90)
    return json.loads(placed[0].value)["order_id"], sent


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
    # The queue searched for a customer who has not ordered yet: newer orders (a demo running
    # beside the tests) cannot push this one off the page.
    customer = unique("Nisha")
    await page.get_by_label("Search").fill(customer)
    await page.get_by_label("Search").press("Enter")
    await expect(page.get_by_text("No orders here.")).to_be_visible()
    await expect(page.locator("#rows[data-connected]")).to_have_count(1)  # the live stream is open

    order_id, order = await place_for(producer, tap, sku, customer)
    row = page.locator(f"tr[data-order='{order_id}']")
    await expect(row).to_be_visible(timeout=60_000)  # no reload: server-sent events
    await expect(row).to_contain_text(customer)
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

    await page.get_by_role("link", name="Analytics").click()
    await expect(page.locator("#m-cod")).to_contain_text("COD share")
    await expect(page.locator("#return-rates")).to_contain_text(sku)
    await page.screenshot(path=str(SHOTS / "analytics.png"), full_page=True)


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
    await order_status(order_id, "PENDING_COD_CONFIRMATION")  # orders answered 403 before the page
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(f"{CONSOLE}/orders")
    await page.screenshot(path=str(SHOTS / "queue-phone.png"))


async def order_page_with(page: Page, order_id: str, text: str) -> None:
    """Open the order's page until the read model shows `text` on it (it follows the topics)."""

    async def shown() -> bool | None:
        await page.goto(f"{CONSOLE}/orders/{order_id}")
        return True if await page.get_by_text(text).count() else None

    await wait_until(shown, what=f"{order_id} showing {text!r} in the console", timeout=90, every=1)


async def test_a_form_without_its_csrf_token_is_refused_and_nothing_happens(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer, browser: Browser
) -> None:
    sku = unique("BRW-CSRF")
    await stocked(sku, 10)
    order_id, _ = await place(producer, tap, sku, phone=new_phone(), cod=True)
    await order_status(order_id, "PENDING_COD_CONFIRMATION")
    page = await sign_in(browser, "asha")
    await order_page_with(page, order_id, "Confirm COD")

    # A page on another site could post this form, but not with the session's token.
    await page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    await page.get_by_role("button", name="Confirm COD").click()
    await expect(page.get_by_role("alert")).to_contain_text("did not carry your session's CSRF token")
    await order_status(order_id, "PENDING_COD_CONFIRMATION")  # the console refused before calling orders


async def test_an_operator_fixes_a_rejected_order_and_resubmits_it(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer, browser: Browser
) -> None:
    sku = unique("BRW-FIX")
    await stocked(sku, 10)
    channel_order_id = unique("SHP-FIX")
    address = {"line1": "12 MI Road", "line2": None, "landmark": None, "city": "Jaipur", "state": "Kerala"}
    sent = channel_order(
        channel_order_id,
        sku,
        customer={"name": "Kavya Iyer", "phone": new_phone()},
        shipping_address=address | {"pincode": "302001"},
    )
    await producer.send_and_wait(
        "channel.orders.v1", encode(sent), key=f"shopify:{channel_order_id}".encode()
    )
    [rejected] = await tap.wait_for(
        "orders.rejected.v1", body_has(channel_order_id=channel_order_id), timeout=90
    )
    order_id = json.loads(rejected.value)["order_id"]

    page = await sign_in(browser, "asha")
    await page.goto(f"{CONSOLE}/orders?tab=rejected&search={channel_order_id}")
    await expect(page.locator(f"tr[data-order='{order_id}']")).to_be_visible(timeout=60_000)
    await page.locator(f"tr[data-order='{order_id}']").get_by_role("link").first.click()
    await expect(page.locator("#order-status")).to_have_text("REJECTED")
    await page.get_by_role("link", name="Fix and resubmit").click()

    # The form holds what Shopify sent, orders' reason beside the field it is about.
    state = page.locator("input[name='shipping_address.state']")
    pincode = page.locator("input[name='shipping_address.pincode']")
    await expect(state).to_have_value("Kerala")
    await expect(
        page.locator("label.bad", has=page.locator("input[name='shipping_address.state']"))
    ).to_contain_text("pincode 302001 is in Rajasthan")
    # A wrong correction is refused by orders, naming the field, and nothing is lost.
    await state.fill("Rajasthan")
    await pincode.fill("30200")
    await page.get_by_role("button", name="Resubmit").click()
    await expect(
        page.locator("label.bad", has=page.locator("input[name='shipping_address.pincode']"))
    ).to_be_visible()
    await expect(state).to_have_value("Rajasthan")
    await page.screenshot(path=str(SHOTS / "fix.png"), full_page=True)
    await pincode.fill("302001")
    await page.get_by_role("button", name="Resubmit").click()
    await expect(page.get_by_role("status")).to_have_text("resubmitted")

    confirmed = await order_status(order_id, "CONFIRMED")
    assert confirmed["shipping_address"]["state"] == "Rajasthan"
    placed = [t for t in confirmed["timeline"] if t["from_status"] == "REJECTED"]
    assert [t["actor"] for t in placed] == ["ops:asha"]
    await order_page_with(page, order_id, "CONFIRMED")
    await expect(page.get_by_role("heading", name="Was rejected because")).to_be_visible()
    await expect(page.get_by_role("link", name="Fix and resubmit")).to_have_count(0)


async def test_an_operator_answers_an_ndr_with_a_reattempt_and_the_parcel_is_delivered(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer, browser: Browser
) -> None:
    sku, phone = unique("BRW-NDR"), new_phone()
    await stocked(sku, 10)
    order_id, _ = await place(producer, tap, sku, phone=phone, cod=True)
    shipment_id = shipment_id_for(order_id, WAREHOUSE)
    # The courier fails once and then waits for the seller's answer (no automatic re-attempt).
    await sandbox("POST", "/_sandbox/couriers/simulation", {"step_delay_ms": 300, "auto_reattempt_ms": None})
    await sandbox("POST", "/_sandbox/couriers/scripts", {"reference": shipment_id, "fail_attempts": 1})
    await order_status(order_id, "PENDING_COD_CONFIRMATION")
    await customer_confirms_cod(tap, order_id, phone)
    await tap.wait_for(
        "shipping.shipment_updated.v1", body_has(shipment_id=shipment_id, status="NDR"), timeout=120
    )

    page = await sign_in(browser, "asha")
    await page.goto(f"{CONSOLE}/orders?tab=ndr&search={order_id}")
    await expect(page.locator(f"tr[data-order='{order_id}']")).to_contain_text("NDR", timeout=60_000)
    await order_page_with(page, order_id, "Re-attempt delivery")
    await page.get_by_role("button", name="Re-attempt delivery").click()
    await expect(page.get_by_role("status")).to_have_text(f"{shipment_id}: Re-attempt delivery sent")

    await tap.wait_for(
        "shipping.shipment_updated.v1", body_has(shipment_id=shipment_id, status="DELIVERED"), timeout=120
    )
    async with client("viewer") as http:
        parcel = (await http.get(url("shipping", f"/shipments/{shipment_id}"))).json()
    assert [(a["action"], a["actor"]) for a in parcel["ndr_actions"]] == [("reattempt", "ops:asha")]
    await order_page_with(page, order_id, "DELIVERED")
    await expect(page.get_by_role("button", name="Re-attempt delivery")).to_have_count(0)


async def prepaid_for(producer: AIOKafkaProducer, tap: Tap, sku: str, customer: str) -> str:
    """A prepaid (UPI) Shopify order of two units for a named customer; its order id."""
    channel_order_id = unique("SHP-NDR")
    sent = channel_order(channel_order_id, sku, customer={"name": customer, "phone": new_phone()})
    await producer.send_and_wait(
        "channel.orders.v1", encode(sent), key=f"shopify:{channel_order_id}".encode()
    )
    placed = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=channel_order_id), timeout=90)
    return str(json.loads(placed[0].value)["order_id"])


async def test_the_ndr_desk_filters_parcels_and_answers_one_with_a_new_address_and_others_in_bulk(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer, browser: Browser
) -> None:
    sku, customer = unique("BRW-DESK"), unique("Ritu")
    await stocked(sku, 10)
    # Couriers fail each parcel's first delivery and wait for the seller's answer.
    await sandbox("POST", "/_sandbox/couriers/simulation", {"step_delay_ms": 300, "auto_reattempt_ms": None})
    reasons = ("wrong_or_incomplete_address", "refused", "refused")
    order_ids = [await prepaid_for(producer, tap, sku, customer) for _ in reasons]
    parcels = [shipment_id_for(order_id, WAREHOUSE) for order_id in order_ids]
    for shipment_id, reason in zip(parcels, reasons, strict=True):
        await sandbox(
            "POST",
            "/_sandbox/couriers/scripts",
            {"reference": shipment_id, "fail_attempts": 1, "ndr_reason": reason},
        )
    for shipment_id in parcels:
        await tap.wait_for(
            "shipping.shipment_updated.v1", body_has(shipment_id=shipment_id, status="NDR"), timeout=180
        )
    moved, refused_one, refused_two = parcels

    page = await sign_in(browser, "asha")
    await page.get_by_role("link", name="NDR desk").click()

    async def listed(**filters: str) -> list[str]:
        """The desk's parcels for this test's customer under the filters, once the read model has all
        three NDRs (it follows the topics)."""
        query = urlencode({"search": customer} | filters)
        await page.goto(f"{CONSOLE}/ndr?{query}")
        return sorted(
            await page.locator("tr[data-shipment]").evaluate_all("rs => rs.map(r => r.dataset.shipment)")
        )

    async def all_three() -> bool | None:
        return True if await listed() == sorted(parcels) else None

    await wait_until(all_three, what="three NDR parcels on the desk", timeout=120, every=1)
    assert await listed(bucket="refused") == sorted([refused_one, refused_two])
    # The reason tabs count every parcel in NDR (other tests' too): these two at least.
    assert int(await page.locator("[data-bucket=refused] b").inner_text()) >= 2
    assert await listed(bucket="address", payment="prepaid") == [moved]
    assert await listed(payment="cod") == []
    assert await listed(attempt="2") == []
    assert await listed(min_value="698", max_value="698.00") == sorted(parcels)
    assert await listed(min_value="698.01") == []
    await page.goto(f"{CONSOLE}/ndr?min_value=cheap")
    await expect(page.get_by_role("alert")).to_contain_text("min_value")

    # One parcel: the courier is told a new address (its reason was the address).
    await page.goto(f"{CONSOLE}/ndr?{urlencode({'search': customer, 'bucket': 'address'})}")
    row = page.locator(f"tr[data-shipment='{moved}']")
    # The order's own id, linked to its page; the store's id and the parcel's are the small print.
    await expect(row.locator("a.order-id")).to_have_text(order_ids[0])
    await expect(row.locator("a.order-id")).to_have_attribute("href", f"/orders/{order_ids[0]}")
    await row.get_by_text("Deliver to a new address").click()
    await row.get_by_label("line1").fill("14 MI Road, near Ajmeri Gate")
    await row.get_by_label("state").fill("Rajasthan")
    await page.screenshot(path=str(SHOTS / "ndr-desk.png"), full_page=True)
    await row.get_by_role("button", name="Send the new address").click()
    await expect(page.get_by_role("status")).to_have_text(f"{moved}: Deliver to a new address sent")
    await expect(page).to_have_url(re.compile(r"bucket=address"))  # back on the same filters

    # The two refusals go back to origin, ticked together.
    await page.goto(f"{CONSOLE}/ndr?{urlencode({'search': customer, 'bucket': 'refused'})}")
    await page.get_by_label("Tick every parcel on this page").check()
    await page.get_by_label("Bulk answer").select_option(label="Return to origin")
    await page.get_by_role("button", name="Answer ticked").click()
    await expect(page.get_by_role("status")).to_have_text("Return to origin: done for 2 of 2")

    await tap.wait_for(
        "shipping.shipment_updated.v1", body_has(shipment_id=moved, status="DELIVERED"), timeout=180
    )
    for shipment_id in (refused_one, refused_two):
        await tap.wait_for(
            "shipping.shipment_updated.v1",
            body_has(shipment_id=shipment_id, status="RTO_INITIATED"),
            timeout=180,
        )
    async with client("viewer") as http:
        for shipment_id, action in ((moved, "new_address"), (refused_one, "rto"), (refused_two, "rto")):
            parcel = (await http.get(url("shipping", f"/shipments/{shipment_id}"))).json()
            assert [(a["action"], a["actor"]) for a in parcel["ndr_actions"]] == [(action, "ops:asha")]

    async def desk_empty() -> bool | None:
        return True if await listed() == [] else None

    await wait_until(desk_empty, what="the answered parcels off the NDR desk", timeout=120, every=1)
    await order_page_with(page, order_ids[1], "RTO_INITIATED")


async def test_the_warehouse_receives_a_return_and_qcs_it_line_by_line(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer, browser: Browser
) -> None:
    sku = unique("BRW-RET")
    await stocked(sku, 10)
    order_id, _ = await delivered(producer, tap, sku, new_phone())
    async with client("ops") as http:
        r = await http.post(
            url("returns", "/returns"),
            json={"order_id": order_id, "lines": [{"sku": sku, "quantity": 2, "reason": "damaged"}]},
        )
        assert r.status_code == 201, r.text
        return_id = r.json()["return_id"]

    page = await sign_in(browser, "ravi")
    await order_page_with(page, order_id, return_id)
    await page.get_by_role("button", name="Receive parcel").click()
    await expect(page.get_by_role("status")).to_have_text("done")
    await order_page_with(page, order_id, "Record QC")
    form = page.locator(f"form[action='/returns/{return_id}/qc']")
    await form.locator(f"input[name='passed.{sku}']").fill("1")
    await form.locator(f"input[name='failed.{sku}']").fill("1")
    await form.get_by_role("button", name="Record QC").click()
    await expect(page.get_by_role("status")).to_have_text("done")

    async with client("viewer") as http:
        body = (await http.get(url("returns", f"/returns/{return_id}"))).json()
    assert body["status"] not in ("REQUESTED", "RECEIVED"), body["status"]
    assert [(q["sku"], q["passed"], q["failed"], q["actor"]) for q in body["qc"]] == [
        (sku, 1, 1, "warehouse:ravi")
    ], body["qc"]


async def test_the_returns_desk_receives_a_parcel_qcs_it_line_by_line_and_shows_the_refund_due(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer, browser: Browser
) -> None:
    sku, other = unique("BRW-RDSK"), unique("BRW-RDSK2")
    for s in (sku, other):
        await stocked(s, 10)
    # Prepaid, delivered, and a payment the sandbox gateway does not know: the refund stays pending.
    channel_order_id = unique("SHP-RDSK")
    lines = [{"sku": sku, "quantity": 2, "unit_price_paise": 34900}]
    lines.append({"sku": other, "quantity": 1, "unit_price_paise": 34900})
    sent = channel_order(
        channel_order_id,
        sku,
        customer={"name": unique("Zoya"), "phone": new_phone()},
        lines=lines,
        total_paise=104700,
        payment=channel_order(channel_order_id, sku)["payment"] | {"amount_paise": 104700},
    )
    await producer.send_and_wait(
        "channel.orders.v1", encode(sent), key=f"shopify:{channel_order_id}".encode()
    )
    placed = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=channel_order_id), timeout=90)
    order_id = json.loads(placed[0].value)["order_id"]
    await road(shipment_id_for(order_id, WAREHOUSE))
    await order_status(order_id, "DELIVERED", timeout=180)
    async with client("ops") as http:
        r = await http.post(
            url("returns", "/returns"),
            json={
                "order_id": order_id,
                "lines": [
                    {"sku": sku, "quantity": 2, "reason": "damaged"},
                    {"sku": other, "quantity": 1, "reason": "size_issue"},
                ],
            },
        )
        assert r.status_code == 201, r.text
        return_id = r.json()["return_id"]

    page = await sign_in(browser, "ravi")
    await page.get_by_role("link", name="Returns desk").click()
    desk = f"{CONSOLE}/returns?{urlencode({'search': order_id})}"

    async def on_desk(section: str) -> bool | None:
        await page.goto(desk)
        return True if await page.locator(f"#{section} [data-return='{return_id}']").count() else None

    await wait_until(lambda: on_desk("to-receive"), what="the return to receive", timeout=120, every=1)
    await page.locator("#to-receive").get_by_role("button", name="Receive parcel").click()
    await expect(page.get_by_role("status")).to_have_text(f"{return_id} received: QC it below")
    await expect(page).to_have_url(re.compile(r"search="))  # back on the desk, same search

    await wait_until(lambda: on_desk("to-qc"), what="the return to QC", timeout=120, every=1)
    form = page.locator(f"form.qc[data-return='{return_id}']")
    await form.get_by_label(f"passed {sku}").fill("1")
    await form.get_by_label(f"failed {sku}").fill("1")
    await form.get_by_label(f"grade {sku}").select_option("C")
    await form.get_by_label(f"note {sku}").fill("seal torn")
    await page.screenshot(path=str(SHOTS / "returns-desk.png"), full_page=True)
    # A count that does not add up is refused by returns, naming the line; nothing is recorded.
    await form.get_by_label(f"passed {other}").fill("0")
    await form.get_by_role("button", name="Record QC").click()
    await expect(page.get_by_role("alert")).to_contain_text(other)
    await wait_until(lambda: on_desk("to-qc"), what="the return still to QC", timeout=60, every=1)
    form = page.locator(f"form.qc[data-return='{return_id}']")
    await form.get_by_label(f"passed {sku}").fill("1")
    await form.get_by_label(f"failed {sku}").fill("1")
    await form.get_by_label(f"grade {sku}").select_option("C")
    await form.get_by_label(f"note {sku}").fill("seal torn")
    # The gateway's answer to the refund is held back, so the refund stays pending on the desk.
    await sandbox("POST", "/_sandbox/razorpay/knobs", {"hold_webhooks": True})
    try:
        await form.get_by_role("button", name="Record QC").click()
        await expect(page.get_by_role("status")).to_contain_text(f"{return_id} QC recorded")

        async with client("viewer") as http:
            body = (await http.get(url("returns", f"/returns/{return_id}"))).json()
        qc = sorted((q["sku"], q["passed"], q["failed"], q["grade"], q["actor"]) for q in body["qc"])
        assert qc == sorted([(sku, 1, 1, "C", "warehouse:ravi"), (other, 1, 0, "A", "warehouse:ravi")]), qc

        # The refund is due three days after QC (returns' SLA); not yet late, so not in red.
        await wait_until(
            lambda: on_desk("refunds"), what="the refund pending on the desk", timeout=120, every=1
        )
        row = page.locator(f"#refunds [data-return='{return_id}']")
        due = datetime.fromisoformat(body["qc_at"]) + timedelta(days=3)
        shown = {(due + timedelta(minutes=m)).astimezone(IST).strftime("%d %b %H:%M") for m in (0, 1)}
        assert (await row.locator("td.due").inner_text()).strip() in shown
        await expect(row).not_to_have_class(re.compile("overdue"))
    finally:
        await sandbox("POST", "/_sandbox/razorpay/knobs", {})

    async def off_desk() -> bool | None:
        await page.goto(desk)
        return True if await page.locator(f"[data-return='{return_id}']").count() == 0 else None

    await wait_until(off_desk, what="the refunded return off the desk", timeout=120, every=1)


async def test_a_refund_the_gateway_refused_is_retried_from_the_returns_desk(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer, browser: Browser
) -> None:
    sku = unique("BRW-RFND")
    await stocked(sku, 10)
    order_id, _ = await delivered(producer, tap, sku, new_phone())
    async with client("ops") as http:
        r = await http.post(
            url("returns", "/returns"),
            json={"order_id": order_id, "lines": [{"sku": sku, "quantity": 2, "reason": "defective"}]},
        )
        assert r.status_code == 201, r.text
        return_id = r.json()["return_id"]
    await sandbox("POST", "/_sandbox/razorpay/knobs", {"fail_next": 1})  # the gateway refuses once
    try:
        await receive_and_pass(return_id, sku, 2)
        await tap.wait_for(
            "returns.updated.v1", body_has(return_id=return_id, alert="refund_failed"), timeout=120
        )
    finally:
        await sandbox("POST", "/_sandbox/razorpay/knobs", {})

    page = await sign_in(browser, "asha")
    desk = f"{CONSOLE}/returns?{urlencode({'search': order_id})}"
    retry = page.locator(f"#refunds [data-return='{return_id}']").get_by_role("button", name="Retry refund")

    async def offered() -> bool | None:
        await page.goto(desk)
        return True if await retry.count() else None

    await wait_until(offered, what="a retry offered for the refused refund", timeout=120, every=1)
    await retry.click()
    await expect(page.get_by_role("status")).to_have_text(f"{return_id}: refund sent again")
    await tap.wait_for("returns.refunded.v1", body_has(return_id=return_id), timeout=120)
    async with client("viewer") as http:
        body = (await http.get(url("returns", f"/returns/{return_id}"))).json()
    assert body["refund"]["status"] == "processed" and body["refund"]["attempt"] == 2, body["refund"]
    assert any(t["actor"] == "ops:asha" and "retried" in (t["note"] or "") for t in body["timeline"])

    async def off_desk() -> bool | None:
        await page.goto(desk)
        return True if await page.locator(f"[data-return='{return_id}']").count() == 0 else None

    await wait_until(off_desk, what="the refunded return off the desk", timeout=120, every=1)


async def test_a_customer_named_in_hindi_reads_in_devanagari_not_as_boxes(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer, browser: Browser
) -> None:
    # This machine has no Devanagari system font (DejaVu only): without the console's own fonts
    # (npm, served at /static/fonts) the name would be a row of empty boxes.
    sku = unique("BRW-HI")
    await stocked(sku, 10)
    hindi = "अनीता शर्मा"
    customer = f"{hindi} {unique('H')}"
    order_id, _ = await place_for(producer, tap, sku, customer)
    page = await sign_in(browser, "asha")
    fonts: list[tuple[str, int]] = []
    page.on("response", lambda r: fonts.append((r.url, r.status)) if "/static/fonts" in r.url else None)
    await order_page_with(page, order_id, customer)
    await page.evaluate("document.fonts.ready.then(() => true)")

    devanagari = [(u, s) for u, s in fonts if "devanagari" in u and u.endswith(".woff2")]
    assert devanagari and all(status == 200 for _, status in devanagari), fonts
    loaded = await page.evaluate(
        """() => [...document.fonts].filter(f => f.status === 'loaded' && f.family.includes('Noto Sans')
               && f.unicodeRange.includes('U+900')).map(f => f.family)"""
    )
    assert loaded, "no loaded Noto face covers Devanagari"
    name = page.get_by_text(customer)
    # Which fonts Chromium drew the name's glyphs with (DevTools' CSS.getPlatformFontsForNode): all
    # of them the console's own web fonts, none a system font. (Comparing widths with a system font
    # proves nothing: a machine with its own Devanagari font, as CI's is, draws the words too.)
    await name.evaluate("el => el.setAttribute('data-probe', 'hindi-name')")
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    root = await cdp.send("DOM.getDocument", {"depth": -1})
    node = await cdp.send(
        "DOM.querySelector", {"nodeId": root["root"]["nodeId"], "selector": "[data-probe=hindi-name]"}
    )
    used = (await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]}))["fonts"]
    assert used and all(f["isCustomFont"] for f in used), used
    assert any("Devanagari" in f["familyName"] or f["familyName"] == "Noto Sans" for f in used), used
    assert await page.evaluate("t => document.fonts.check('15px \"Noto Sans\"', t)", hindi)
    await name.screenshot(path=str(SHOTS / "hindi-name.png"))


async def test_an_operator_ticks_two_cod_orders_in_the_queue_and_confirms_both_at_once(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer, browser: Browser
) -> None:
    sku = unique("BRW-BULK")
    await stocked(sku, 10)
    customer = unique("Farah")
    first, _ = await place_for(producer, tap, sku, customer)
    second, _ = await place_for(producer, tap, sku, customer)
    for order_id in (first, second):
        await order_status(order_id, "PENDING_COD_CONFIRMATION")
    page = await sign_in(browser, "asha")
    await page.goto(f"{CONSOLE}/orders?tab=cod&search={customer}")
    for order_id in (first, second):
        await expect(page.locator(f"tr[data-order='{order_id}']")).to_be_visible(timeout=60_000)
    await page.get_by_label("Tick every order on this page").check()
    await page.get_by_label("Bulk action").select_option(label="Confirm COD")
    await page.screenshot(path=str(SHOTS / "queue-bulk.png"))
    await page.get_by_role("button", name="Apply to ticked").click()
    await expect(page.get_by_role("status")).to_have_text("Confirm COD: done for 2 of 2")
    await expect(page).to_have_url(re.compile(r"tab=cod"))  # back on the same tab and search

    for order_id in (first, second):
        confirmed = await order_status(order_id, "CONFIRMED")
        assert [t["actor"] for t in confirmed["timeline"] if t["to_status"] == "CONFIRMED"] == ["ops:asha"]
    # A confirmed order can no longer be held: orders refuses it, and the page says which order.
    await page.goto(f"{CONSOLE}/orders?search={customer}")
    await expect(page.locator(f"tr[data-order='{first}']")).to_contain_text("CONFIRMED", timeout=60_000)
    await page.locator(f"tr[data-order='{first}'] input[name=order_id]").check()
    await page.get_by_label("Bulk action").select_option(label="Hold")
    await page.get_by_role("button", name="Apply to ticked").click()
    await expect(page.get_by_role("alert")).to_contain_text(f"done for 0 of 1; {first}:")


async def stock_shows(page: Page, path: str, row: str, cell: str, text: str) -> None:
    """Open a stock page until the read model's row shows `text` in that cell (it follows the topics)."""

    async def shown() -> bool | None:
        await page.goto(f"{CONSOLE}{path}")
        found = page.locator(f"{row} td.{cell}")
        return True if await found.count() and (await found.first.inner_text()).startswith(text) else None

    await wait_until(shown, what=f"{path}: {row} {cell} showing {text!r}", timeout=60, every=1)


async def test_the_stock_screen_receives_units_refuses_a_negative_count_and_a_viewer_and_lists_low_stock(
    stack: Stack, browser: Browser
) -> None:
    sku = unique("BRW-STK")
    await seed_stock(sku, {WAREHOUSE: 10})
    page = await sign_in(browser, "ravi")  # the warehouse role
    await stock_shows(page, f"/stock?sku={sku}", f"#sku tr[data-warehouse='{WAREHOUSE}']", "on-hand", "10")

    form = page.get_by_role("form", name="Receive")
    await form.get_by_label("Receive into warehouse").fill(WAREHOUSE)
    await form.get_by_label("Units received").fill("5")
    await form.get_by_role("button", name="Receive").click()
    await expect(page.get_by_role("status")).to_have_text(
        f"received 5 × {sku}: {WAREHOUSE} on hand 15, available 15"
    )
    await stock_shows(page, f"/stock?sku={sku}", f"#sku tr[data-warehouse='{WAREHOUSE}']", "on-hand", "15")
    await expect(page.locator(".ledger tr", has_text="receipt").first.locator("td.actor")).to_have_text(
        "warehouse:ravi"
    )

    form = page.get_by_role("form", name="Adjust")
    await form.get_by_label("Adjust in warehouse").fill(WAREHOUSE)
    await form.get_by_label("Adjustment reason").select_option("cycle_count")
    await form.get_by_label("Adjust by units").fill("-20")
    await form.get_by_role("button", name="Adjust").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        f"adjustment refused: delta: {WAREHOUSE} has no stock row for {sku}, "
        "or fewer unreserved units than 20"
    )

    # Sale buffers and reorder points are the ops role's (inventory refuses the warehouse role).
    form = page.get_by_role("form", name="Levels")
    await form.get_by_label("Reorder point units").fill("20")
    await form.get_by_role("button", name="Set levels").click()
    await expect(page.get_by_role("alert")).to_contain_text("forbidden")
    page = await sign_in(browser, "asha")
    await page.goto(f"{CONSOLE}/stock?sku={sku}")
    form = page.get_by_role("form", name="Levels")
    await form.get_by_label("Reorder point units").fill("20")
    await form.get_by_role("button", name="Set levels").click()
    await expect(page.get_by_role("status")).to_have_text(
        f"levels of {sku} set: {WAREHOUSE} buffer 0, reorder at 20"
    )
    await stock_shows(
        page, f"/stock?low=1&search={sku}", f"#stock-list tr[data-sku='{sku}']", "reorder", "20 · low"
    )
    # Item import: inventory takes every row or none and names the bad cell as row N.column.
    tea, cable = unique("IMP-TEA"), unique("IMP-CABLE")
    header = "sku,name,category,barcode,weight_grams,hsn_code,mrp_paise\n"
    good = f"{tea},Assam tea 250 g,tea,,270,0902,34900\n"
    await page.get_by_text("Import items (CSV)").click()
    form = page.get_by_role("form", name="Import items")
    bad = header + good + f"{cable},USB-C cable,electronics,123,0,85444299,199\n"
    await form.get_by_label("Items CSV").set_input_files(
        {"name": "items.csv", "mimeType": "text/csv", "buffer": bad.encode()}
    )
    await form.get_by_role("button", name="Import items").click()
    await expect(page.get_by_role("alert")).to_contain_text("row 3.barcode")
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        assert (await http.get(url("inventory", f"/items/{tea}"))).status_code == 404, "all rows or none"
    await page.get_by_text("Import items (CSV)").click()
    form = page.get_by_role("form", name="Import items")
    fixed = header + good + f"{cable},USB-C cable,electronics,,40,85444299,19900\n"
    await form.get_by_label("Items CSV").set_input_files(
        {"name": "items.csv", "mimeType": "text/csv", "buffer": fixed.encode()}
    )
    await form.get_by_role("button", name="Import items").click()
    await expect(page.get_by_role("status")).to_have_text(f"imported 2 items: {tea}, {cable}")

    await page.set_viewport_size({"width": 375, "height": 812})
    await page.goto(f"{CONSOLE}/stock?sku={sku}&search={sku}")
    # At phone width every number of a row is on the screen, not scrolled off to the right.
    for row in (f"#sku tr[data-warehouse='{WAREHOUSE}']", f"#stock-list tr[data-sku='{sku}']"):
        for cell in ("on-hand", "available", "reorder"):
            box = await page.locator(f"{row} td.{cell}").bounding_box()
            assert box is not None and box["width"] > 0, f"{row} {cell} is not shown"
            assert 0 <= box["x"] and box["x"] + box["width"] <= 375, f"{row} {cell} is off the screen: {box}"
    await expect(page.locator(f"#stock-list tr[data-sku='{sku}'] td.reorder")).to_contain_text("20 · low")
    await page.screenshot(path=str(SHOTS / "stock-phone.png"), full_page=True)

    viewer = await sign_in(browser, "vikram")
    await viewer.goto(f"{CONSOLE}/stock?sku={sku}")
    form = viewer.get_by_role("form", name="Receive")
    await form.get_by_label("Receive into warehouse").fill(WAREHOUSE)
    await form.get_by_label("Units received").fill("1")
    await form.get_by_role("button", name="Receive").click()
    await expect(viewer.get_by_role("alert")).to_contain_text("forbidden")
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        stock = (await http.get(url("inventory", f"/stock/{sku}"))).json()
    assert [(w["warehouse_code"], w["on_hand"]) for w in stock["warehouses"]] == [(WAREHOUSE, 15)]


async def test_days_are_typed_and_shown_day_first_as_indian_operators_write_them(
    stack: Stack, browser: Browser
) -> None:
    # Chromium draws <input type=date> in the browser's own locale (mm/dd/yyyy in an en-US browser)
    # whatever the page's lang says, so the console's day fields are text read as dd/mm/yyyy.
    page = await sign_in(browser, "asha")
    placed_from = page.get_by_label("Placed from (dd/mm/yyyy)")
    await expect(placed_from).to_have_attribute("placeholder", "dd/mm/yyyy")
    await expect(page.locator("html")).to_have_attribute("lang", "en-IN")
    await placed_from.fill("25/12/2026")
    await placed_from.press("Enter")
    await expect(page).to_have_url(re.compile(r"from=25%2F12%2F2026"))
    await expect(page.get_by_label("Placed from (dd/mm/yyyy)")).to_have_value("25/12/2026")
    await expect(page.get_by_role("alert")).to_have_count(0)
    await page.goto(f"{CONSOLE}/orders?from=2026-12-05")  # a link made before reads day first too
    await expect(page.get_by_label("Placed from (dd/mm/yyyy)")).to_have_value("05/12/2026")
    await page.get_by_label("Placed to (dd/mm/yyyy)").fill("12/25/2026")
    await page.get_by_label("Placed to (dd/mm/yyyy)").press("Enter")
    await expect(page.get_by_role("alert")).to_contain_text(
        "to: '12/25/2026' is not a day: write it dd/mm/yyyy, e.g. 25/12/2026"
    )


async def test_a_customers_whatsapp_text_becomes_a_ticket_an_operator_answers_and_closes(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer, browser: Browser
) -> None:
    sku, customer = unique("BRW-INBOX"), unique("Meera")
    await stocked(sku, 5)
    order_id, sent = await place_for(producer, tap, sku, customer)
    phone = sent["customer"]["phone"]
    # Notifications knows the customer's phone once it has messaged them about the order.
    await tap.wait_for(
        "notifications.sent.v1", body_has(order_id=order_id, template="cod_confirmation_request"), timeout=90
    )
    question = f"Can you deliver {order_id} after 6 pm?"
    await sandbox("POST", "/_sandbox/whatsapp/inbound", {"from": phone, "text": question})
    wrote = await tap.wait_for("notifications.ticket_updated.v1", body_has(order_id=order_id), timeout=60)
    ticket_id = json.loads(wrote[0].value)["ticket_id"]

    page = await sign_in(browser, "asha")
    row = page.locator(f"tr[data-ticket='{ticket_id}']")

    async def listed() -> bool | None:
        await page.goto(f"{CONSOLE}/inbox")
        return True if await row.count() else None

    await wait_until(listed, what="the ticket in the console's inbox", timeout=60, every=1)
    await expect(row).to_contain_text(question)
    await expect(row).to_contain_text(order_id)
    await expect(row.locator(".window")).to_contain_text("left")
    await page.screenshot(path=str(SHOTS / "inbox.png"))

    viewer = await sign_in(browser, "vikram")
    await viewer.goto(f"{CONSOLE}/inbox/{ticket_id}")
    await viewer.get_by_label("Reply").fill("A viewer may not answer")
    await viewer.get_by_role("button", name="Send reply").click()
    await expect(viewer.get_by_role("alert")).to_contain_text("forbidden")

    await row.get_by_role("link", name=ticket_id).click()
    await page.get_by_label("Reply").fill("Yes, we will deliver after 6 pm.")
    await page.get_by_role("button", name="Send reply").click()
    await expect(page.get_by_role("status")).to_have_text("reply sent on WhatsApp")
    texts = [
        m["body"]["text"]["body"]
        for m in await sandbox("GET", "/_sandbox/whatsapp/messages")
        if m["to"] == phone and m["type"] == "text"
    ]
    assert texts == ["Yes, we will deliver after 6 pm."]  # the viewer's reply never left

    await page.get_by_role("button", name="Close ticket").click()
    await expect(page.get_by_role("status")).to_have_text(f"ticket {ticket_id} closed")
    # The console is a read model: the close reaches it as notifications.ticket_updated.v1, a moment
    # after notifications answered, so the order page is looked at again until it has.
    closed_line = page.get_by_text(f"ticket closed ({ticket_id})")

    async def on_the_timeline() -> bool | None:
        await page.goto(f"{CONSOLE}/orders/{order_id}")
        return True if await closed_line.count() else None

    await wait_until(on_the_timeline, what="the closed ticket on its order's timeline", timeout=30, every=0.5)
    await expect(closed_line).to_be_visible()
    await expect(page.get_by_text(f"customer wrote ({ticket_id}): {question}")).to_be_visible()
