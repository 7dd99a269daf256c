"""The console through the real stack: sign in, a channel order in the queue, COD confirmed by the
person who clicked (recorded by orders as ops:asha), a viewer refused by orders itself, a form
without CSRF refused, and the read model rebuilt from the topics equal to the live one."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from deploy.local.ports import PORTS, dev_headers
from deploy.local.stack import Stack
from services.console import store
from services.console.domain.stock import StockRow, rows_of
from services.console.rebuild import fold_topics
from tests.conftest import Tap, body_has
from tests.e2e.test_journeys import client, new_phone, order_status, place, sandbox, stocked
from tests.helpers import channel_order, db_fetch, encode, unique, url, wait_until

pytestmark = pytest.mark.e2e
CONSOLE = f"http://127.0.0.1:{PORTS['console']}"


async def signed_in(name: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=CONSOLE, timeout=15)
    page = await http.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    r = await http.post(
        "/login", data={"username": name, "password": f"dev-{name}-local", "csrf_token": csrf.group(1)}
    )
    assert r.status_code == 303 and r.headers["location"] == "/orders", r.text
    return http


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def console_shows(http: httpx.AsyncClient, order_id: str, text: str) -> str:
    async def page() -> str | None:
        r = await http.get(f"/orders/{order_id}")
        return r.text if r.status_code == 200 and text in r.text else None

    return await wait_until(page, what=f"console page of {order_id} showing {text!r}", timeout=60)


async def test_an_operator_confirms_a_cod_order_and_orders_records_her_name(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("CON-TEA")
    await stocked(sku, 10)
    phone = "+9198" + unique("")[1:9].translate(str.maketrans("ABCDEF", "123456"))
    order_id, order = await place(producer, tap, sku, phone=phone, cod=True)
    await order_status(order_id, "PENDING_COD_CONFIRMATION")

    asha = await signed_in("asha")
    vikram = await signed_in("vikram")
    try:
        # The queue finds it by the last five digits of the phone, typed with a space.
        async def listed() -> str | None:
            r = await asha.get("/orders", params={"search": f"{phone[-5:-2]} {phone[-2:]}"})
            return r.text if order["channel_order_id"] in r.text else None

        queue = await wait_until(listed, what="the order in the console's queue", timeout=60)
        assert "Meena Sharma" in queue and "Jaipur" in queue

        page = await console_shows(asha, order_id, "PENDING_COD_CONFIRMATION")
        assert "Confirm COD" in page

        # No CSRF token: refused by the console before anything is called.
        r = await asha.post(f"/orders/{order_id}/actions/cod_confirm", data={})
        assert r.status_code == 403

        # A viewer sees the button but orders refuses the console's viewer key.
        viewer_page = await vikram.get(f"/orders/{order_id}")
        r = await vikram.post(
            f"/orders/{order_id}/actions/cod_confirm", data={"csrf_token": csrf_of(viewer_page.text)}
        )
        assert r.status_code == 303 and "error=forbidden" in r.headers["location"], r.headers["location"]
        await order_status(order_id, "PENDING_COD_CONFIRMATION")

        r = await asha.post(f"/orders/{order_id}/actions/cod_confirm", data={"csrf_token": csrf_of(page)})
        assert r.status_code == 303 and "ok=done" in r.headers["location"], r.headers["location"]
        # Her very next page shows it: the console follows the topics in gathered batches, and
        # answered only once its read model had applied the events orders wrote (ADR 545).
        next_page = (await asha.get(f"/orders/{order_id}")).text
        assert "by ops:asha" in next_page and "Confirm COD" not in next_page
        confirmed = await order_status(order_id, "CONFIRMED")
        assert [t["actor"] for t in confirmed["timeline"] if t["to_status"] == "CONFIRMED"] == ["ops:asha"]

        detail = await console_shows(asha, order_id, "by ops:asha")
        assert "CONFIRMED" in detail

        r = await asha.get("/analytics")
        assert r.status_code == 200 and sku in r.text

        r = await asha.post("/logout", data={"csrf_token": csrf_of(detail)})
        assert r.status_code == 303
        assert (await asha.get("/orders")).headers.get("location") == "/login"
    finally:
        await asha.aclose()
        await vikram.aclose()


async def test_an_order_keyed_in_by_hand_names_who_entered_it_once_in_the_timeline(stack: Stack) -> None:
    sku = unique("CON-HAND")
    await stocked(sku, 10)
    cod = {"method": "cod", "status": "pending", "gateway": None, "gateway_payment_id": None}
    order = channel_order(unique("PHONE"), sku, channel="manual", payment=cod | {"amount_paise": 69800})
    order["customer"]["phone"] = new_phone()
    async with client("ops") as http:
        r = await http.post(url("orders", "/orders"), json=order)
        assert r.status_code in (200, 201), r.text
        order_id = r.json()["order_id"]
        [placed] = [t for t in (await http.get(url("orders", f"/orders/{order_id}"))).json()["timeline"]]
    actor = placed["actor"]
    assert actor and f"entered by {actor}" in placed["reason"], placed

    asha = await signed_in("asha")
    try:
        page = await console_shows(asha, order_id, f"entered by {actor}")
        lines = [li.split("</li>")[0] for li in page.split("<li>") if actor in li]
        assert lines and all(li.count(actor) == 1 for li in lines), lines
    finally:
        await asha.aclose()


async def in_tab(http: httpx.AsyncClient, tab: str, order_id: str) -> bool:
    """Whether the queue's tab lists the order (searched by its id, so no other order crowds it out)."""
    r = await http.get("/orders", params={"tab": tab, "search": order_id})
    assert r.status_code == 200, r.text
    return f'data-order="{order_id}"' in r.text


async def listed_in(http: httpx.AsyncClient, tab: str, order_id: str) -> None:
    async def shown() -> bool | None:
        return True if await in_tab(http, tab, order_id) else None

    await wait_until(shown, what=f"{order_id} in the console's {tab} tab", timeout=90, every=1)


async def test_the_queue_has_tabs_for_unroutable_unbooked_and_late_orders(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    asha = await signed_in("asha")
    try:
        # Nothing in stock anywhere: routing gives up, and the order waits in "Unroutable".
        unroutable, _ = await place(producer, tap, unique("CON-NONE"), phone=new_phone(), cod=False)
        await listed_in(asha, "unroutable", unroutable)

        # Placed ten days ago and confirmed, not picked up: past the promised dispatch time.
        sku = unique("CON-LATE")
        await stocked(sku, 10)
        late, _ = await place(producer, tap, sku, phone=new_phone(), cod=False)
        await listed_in(asha, "late_dispatch", late)
        # The same order placed now is confirmed too, but its promise is still ahead.
        fresh = channel_order(unique("SHP-NOW"), sku, placed_at=datetime.now(UTC).isoformat())
        fresh["customer"]["phone"] = new_phone()
        await producer.send_and_wait(
            "channel.orders.v1", encode(fresh), key=f"shopify:{fresh['channel_order_id']}".encode()
        )
        [placed] = await tap.wait_for(
            "orders.placed.v1", body_has(channel_order_id=fresh["channel_order_id"]), timeout=90
        )
        on_time = json.loads(placed.value)["order_id"]
        await tap.wait_for("shipping.shipment_created.v1", body_has(order_id=on_time), timeout=90)
        await console_shows(asha, on_time, "AWB_ASSIGNED")
        assert not await in_tab(asha, "late_dispatch", on_time)
        assert not await in_tab(asha, "unroutable", late)

        # Every courier down: the parcel is not booked and waits in "No courier".
        for provider in ("xpressbees", "shiprocket", "courier"):
            await sandbox(
                "POST", "/_sandbox/faults", {"provider": provider, "status_code": 503, "fail_next": 50}
            )
        try:
            unbooked, _ = await place(producer, tap, sku, phone=new_phone(), cod=False)
            await tap.wait_for(
                "shipping.shipment_created.v1", body_has(order_id=unbooked, status="CREATED"), timeout=90
            )
        finally:
            for provider in ("xpressbees", "shiprocket", "courier"):
                await sandbox("POST", "/_sandbox/faults", {"provider": provider, "fail_next": 0})
        await listed_in(asha, "no_courier", unbooked)
        # The couriers are back: the operator books it again from the order's page.
        page = await console_shows(asha, unbooked, "Book a courier again")
        [sid] = re.findall(r'action="/shipments/([^"/]+)/book"', page)
        r = await asha.post(
            f"/shipments/{sid}/book", data={"order_id": unbooked, "csrf_token": csrf_of(page)}
        )
        assert r.status_code == 303 and "ok=booked" in r.headers["location"], r.headers["location"]
        await tap.wait_for(
            "shipping.shipment_updated.v1", body_has(shipment_id=sid, status="AWB_ASSIGNED"), timeout=90
        )

        async def left_the_tab() -> bool | None:
            return None if await in_tab(asha, "no_courier", unbooked) else True

        await wait_until(left_the_tab, what=f"{unbooked} out of the No courier tab", timeout=90, every=1)
        page = (await asha.get("/orders")).text
        assert re.search(r"Unroutable <b>[1-9]", page) and re.search(r"Late to dispatch <b>[1-9]", page)
    finally:
        await asha.aclose()


async def test_a_viewer_bulk_action_is_refused_by_orders_for_each_order(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("CON-BULK")
    await stocked(sku, 10)
    order_id, _ = await place(producer, tap, sku, phone=new_phone(), cod=True)
    await order_status(order_id, "PENDING_COD_CONFIRMATION")
    vikram = await signed_in("vikram")
    try:
        page = await console_shows(vikram, order_id, "PENDING_COD_CONFIRMATION")
        form = {"action": "hold", "order_id": order_id, "back": "tab=cod", "csrf_token": csrf_of(page)}
        r = await vikram.post("/orders/bulk", data={k: v for k, v in form.items() if k != "csrf_token"})
        assert r.status_code == 403  # no CSRF token: refused before orders is called
        r = await vikram.post("/orders/bulk", data=form)
        assert r.status_code == 303, r.text
        assert r.headers["location"].startswith("/orders?tab=cod&error=Hold"), r.headers["location"]
        assert "forbidden" in r.headers["location"]
        await order_status(order_id, "PENDING_COD_CONFIRMATION")
    finally:
        await vikram.aclose()


async def test_sign_in_refuses_a_wrong_password_and_a_form_from_elsewhere(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=CONSOLE, timeout=15) as http:
        page = await http.get("/login")
        r = await http.post(
            "/login", data={"username": "ravi", "password": "wrong", "csrf_token": csrf_of(page.text)}
        )
        assert r.status_code == 303 and "wrong+user+name+or+password" in r.headers["location"]
        r = await http.post(
            "/login", data={"username": "ravi", "password": "dev-ravi-local", "csrf_token": "x"}
        )
        assert "the form expired" in r.text and "dabba_session" not in r.cookies


async def test_the_read_model_rebuilt_from_the_topics_equals_the_live_one(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("CON-RB")
    await stocked(sku, 10)
    order_id, _ = await place(producer, tap, sku, phone="+919812300001", cod=False)
    await order_status(order_id, "CONFIRMED")
    async with httpx.AsyncClient(timeout=10, headers=dev_headers()) as http:
        assert (await http.get(url("orders", f"/orders/{order_id}"))).status_code == 200

    async def equal() -> bool | None:
        rebuilt = await fold_topics(stack.env.get("KAFKA_BOOTSTRAP_SERVERS") or _kafka())
        rows = await db_fetch("console", "SELECT * FROM order_view", decoded=True)
        live = {r["order_id"]: store.view_of(r) for r in rows}
        timeline = {r["event_id"] for r in await db_fetch("console", "SELECT event_id FROM order_timeline")}
        tickets = {r["event_id"] for r in await db_fetch("console", "SELECT event_id FROM ticket_lines")}
        if order_id not in live or rebuilt.views != live or {t.event_id for t in rebuilt.tickets} != tickets:
            return None
        assert {e.event_id for e in rebuilt.timeline} == timeline
        stock = await db_fetch(
            "console", "SELECT * FROM stock_view WHERE sku = $1 ORDER BY warehouse_code", sku
        )
        folded = [r for e in rebuilt.stock if e.sku == sku for r in rows_of(e)]
        return True if [StockRow(**dict(r)) for r in stock] == folded and folded else None

    await wait_until(equal, what="the rebuilt read model to equal the live one", timeout=90, every=2)


def _kafka() -> str:
    import os

    return os.environ["KAFKA_BOOTSTRAP_SERVERS"]
