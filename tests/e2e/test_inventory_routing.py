"""Inventory and routing through the real stack: a flash sale never oversells, stock leaves on
courier pickup and comes back on restock, alerts fire once, and operators can see why."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from contracts import (
    FulfilmentPlan,
    PlannedShipment,
    ReturnLine,
    ReturnUpdated,
    RoutingPlanned,
    ShipmentUpdated,
    SkuQuantity,
    examples,
)
from contracts.enums import ReturnReason, ReturnStatus, ShipmentStatus
from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from tests.conftest import Tap, body_has, ce_id, publish_event
from tests.helpers import channel_order, db_fetch, encode, seed_stock, unique, url, wait_applied

pytestmark = pytest.mark.e2e


def value(record: Any) -> dict[str, Any]:
    return json.loads(record.value)


def single_plan(order_id: str, sku: str, warehouse_code: str, quantity: int) -> RoutingPlanned:
    """A routing plan as routing would send it: one shipment of one line."""
    shipment = PlannedShipment(warehouse_code=warehouse_code, lines=[SkuQuantity(sku=sku, quantity=quantity)])
    return RoutingPlanned(order_id=order_id, plans=[FulfilmentPlan(rank=1, score=0, shipments=[shipment])])


async def stock_seen_by_routing(tap: Tap, sku: str, count: int) -> None:
    """Wait until routing applied the stock_changed events of a freshly seeded SKU."""
    events = await tap.wait_for("inventory.stock_changed.v1", body_has(sku=sku), count=count)
    await wait_applied("routing", ce_id(events[-1]))


async def place(producer: AIOKafkaProducer, sku: str, quantity: int = 1, **overrides: Any) -> str:
    channel_order_id = unique("SALE")
    order = channel_order(channel_order_id, sku, **overrides)
    order["lines"][0]["quantity"] = quantity
    order["total_paise"] = order["payment"]["amount_paise"] = 34900 * quantity
    await producer.send("channel.orders.v1", encode(order), key=f"shopify:{channel_order_id}".encode())
    return channel_order_id


async def stock(sku: str) -> dict[str, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        r = await http.get(url("inventory", f"/stock/{sku}"))
        r.raise_for_status()
        return {w["warehouse_code"]: w for w in r.json()["warehouses"]}


async def test_two_hundred_orders_for_fifty_units_over_two_warehouses_sell_exactly_fifty(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("FLASH")
    await seed_stock(sku, {"BOM1": 30, "GGN1": 20})
    await stock_seen_by_routing(tap, sku, count=2)

    sent = [await place(producer, sku) for _ in range(200)]
    await producer.flush()

    placed = await tap.wait_for("orders.placed.v1", lambda r: value(r)["channel_order_id"] in sent, count=200)
    orders = {value(r)["order_id"] for r in placed}
    assert len(orders) == 200
    reserved = await tap.wait_for(
        "inventory.reserved.v1", lambda r: value(r)["order_id"] in orders, count=50, timeout=200
    )
    final = await tap.wait_for(
        "inventory.reservation_failed.v1",
        lambda r: value(r)["order_id"] in orders and value(r)["final"],
        count=150,
        timeout=200,
    )
    await asyncio.sleep(2)  # anything more arriving now would be a double reservation or failure
    reserved = tap.find("inventory.reserved.v1", lambda r: value(r)["order_id"] in orders)
    final = tap.find(
        "inventory.reservation_failed.v1", lambda r: value(r)["order_id"] in orders and value(r)["final"]
    )
    served = {value(r)["order_id"] for r in reserved}
    unserved = {value(r)["order_id"] for r in final}
    assert tap.find("dlq.inventory", lambda r: True) == [], "no reservation was dead-lettered"
    assert len(served) == 50 and len(reserved) == 50, "each served order reserved once"
    assert len(unserved) == 150 and not served & unserved, "every other order ends in one final failure"
    units = sum(a["quantity"] for r in reserved for a in value(r)["allocations"])
    assert units == 50

    numbers = await stock(sku)
    assert {wh: (w["on_hand"], w["reserved"], w["available"]) for wh, w in numbers.items()} == {
        "BOM1": (30, 30, 0),
        "GGN1": (20, 20, 0),
    }
    negative = await db_fetch("inventory", "SELECT * FROM stock WHERE on_hand < reserved OR reserved < 0")
    assert negative == []
    held = await db_fetch(
        "inventory",
        "SELECT count(*) AS n FROM reservations WHERE order_id = ANY($1::text[]) AND status = 'active'",
        sorted(unserved),
    )
    assert held[0]["n"] == 0, "nothing stays reserved for an order that was not served"

    # Gurugram is nearer Jaipur, so its 20 went first; re-plans used inventory's fresh numbers.
    some_unserved = sorted(unserved)[0]
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        explained = (await http.get(url("routing", f"/routes/{some_unserved}/explain"))).json()
    attempts = explained["attempts"]
    assert [a["attempt"] for a in attempts] == [1, 2]
    assert attempts[0]["plans"][0]["shipments"][0]["warehouse_code"] == "GGN1"
    assert attempts[1]["plans"] == [] and attempts[1]["outcome"].endswith("(final)")
    assert any("needs 1" in note for note in attempts[1]["left_out"])


async def test_courier_pickup_turns_the_reservation_into_a_deduction_once(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("PICKUP")
    await seed_stock(sku, {"GGN1": 5})
    await stock_seen_by_routing(tap, sku, count=1)
    channel_order_id = await place(producer, sku, quantity=2)
    placed = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=channel_order_id))
    order_id = value(placed[0])["order_id"]
    await tap.wait_for("inventory.reserved.v1", body_has(order_id=order_id))
    assert (await stock(sku))["GGN1"]["reserved"] == 2

    pickup = ShipmentUpdated(
        order_id=order_id,
        shipment_id=unique("SHP"),
        warehouse_code="GGN1",
        courier="delhivery",
        awb="12345678901234",
        status=ShipmentStatus.PICKED_UP,
    )
    for _ in range(2):  # couriers send the same scan twice, as different events
        envelope = await publish_event(producer, pickup.model_copy(update={}), source="shipping")
        await wait_applied("inventory", envelope.id)
    numbers = (await stock(sku))["GGN1"]
    assert (numbers["on_hand"], numbers["reserved"], numbers["available"]) == (3, 0, 3)
    ledger = await db_fetch(
        "inventory",
        "SELECT on_hand_delta, reserved_delta FROM stock_movements WHERE sku = $1 AND kind = 'dispatch'",
        sku,
    )
    assert [(r["on_hand_delta"], r["reserved_delta"]) for r in ledger] == [(-2, -2)]


async def test_a_missed_pickup_scan_still_dispatches_the_stock_once_and_its_return_restocks_exactly(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("NOPICKUP")
    await seed_stock(sku, {"GGN1": 5})
    await stock_seen_by_routing(tap, sku, count=1)
    channel_order_id = await place(producer, sku, quantity=2)
    placed = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=channel_order_id))
    order_id = value(placed[0])["order_id"]
    await tap.wait_for("inventory.reserved.v1", body_has(order_id=order_id))

    def scan(status: ShipmentStatus) -> ShipmentUpdated:
        return ShipmentUpdated(
            order_id=order_id,
            shipment_id="SHP-NOPICKUP",
            warehouse_code="GGN1",
            courier="shiprocket",
            awb="SR1234567890",
            status=status,
        )

    # The courier's first scan we hear of is "in transit"; the pickup scan arrives last.
    for status in (ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED, ShipmentStatus.PICKED_UP):
        await wait_applied("inventory", (await publish_event(producer, scan(status), source="shipping")).id)
        numbers = (await stock(sku))["GGN1"]
        assert (numbers["on_hand"], numbers["reserved"]) == (3, 0), f"dispatched once, after {status}"
    ledger = await db_fetch(
        "inventory",
        "SELECT on_hand_delta, reserved_delta FROM stock_movements WHERE sku = $1 AND kind = 'dispatch'",
        sku,
    )
    assert [(r["on_hand_delta"], r["reserved_delta"]) for r in ledger] == [(-2, -2)]

    restocked = ReturnUpdated(
        order_id=order_id,
        return_id=unique("RMA"),
        status=ReturnStatus.RESTOCKED,
        warehouse_code="GGN1",
        lines=[ReturnLine(sku=sku, quantity=2, reason=ReturnReason.SIZE_ISSUE)],
    )
    await wait_applied("inventory", (await publish_event(producer, restocked, source="returns")).id)
    numbers = (await stock(sku))["GGN1"]
    assert (numbers["on_hand"], numbers["reserved"], numbers["available"]) == (5, 0, 5), "back to what we had"


async def test_restocked_returns_come_back_to_stock_and_quarantined_units_never_become_available(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("RETURN")
    await seed_stock(sku, {"BOM1": 1})

    def update(status: ReturnStatus, return_id: str) -> ReturnUpdated:
        return ReturnUpdated(
            order_id=unique("ORD"),
            return_id=return_id,
            status=status,
            warehouse_code="BOM1",
            lines=[
                ReturnLine(sku=sku, quantity=1, reason=ReturnReason.SIZE_ISSUE),
                ReturnLine(sku=sku, quantity=1, reason=ReturnReason.CHANGED_MIND),
            ],
        )

    restocked = update(ReturnStatus.RESTOCKED, unique("RMA"))
    for _ in range(2):
        await wait_applied("inventory", (await publish_event(producer, restocked, source="returns")).id)
    await wait_applied(
        "inventory",
        (await publish_event(producer, update(ReturnStatus.QUARANTINED, unique("RMA")), source="returns")).id,
    )
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        body = (await http.get(url("inventory", f"/stock/{sku}"))).json()
    assert body["warehouses"][0]["on_hand"] == 3, "1 received + 2 restocked, once"
    assert body["warehouses"][0]["available"] == 3
    assert body["quarantined"] == [{"warehouse_code": "BOM1", "quantity": 2}]
    changes = await tap.wait_for("inventory.stock_changed.v1", body_has(sku=sku, available_total=3))
    assert value(changes[-1])["by_warehouse"] == {"BOM1": 3}


async def test_low_stock_alert_fires_once_when_available_crosses_the_reorder_point(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("LOW")
    await seed_stock(sku, {"GGN1": 6})
    await stock_seen_by_routing(tap, sku, count=1)
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("ops")) as http:
        r = await http.put(url("inventory", f"/stock/{sku}/levels"), json={"reorder_point": 3})
        assert r.status_code == 200, r.text
    for _ in range(3):  # 6 → 4 → 2 (crosses) → 0: one alert
        channel_order_id = await place(producer, sku, quantity=2)
        placed = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=channel_order_id))
        await tap.wait_for("inventory.reserved.v1", body_has(order_id=value(placed[0])["order_id"]))
    await tap.wait_for("inventory.stock_changed.v1", body_has(sku=sku, available_total=0))
    alerts = tap.find("inventory.low_stock.v1", body_has(sku=sku))
    assert [
        (value(a)["warehouse_code"], value(a)["available"], value(a)["reorder_point"]) for a in alerts
    ] == [("GGN1", 2, 3)]
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("warehouse")) as http:
        r = await http.post(
            url("inventory", "/stock/receipts"),
            json={"sku": sku, "warehouse_code": "GGN1", "quantity": 10, "reference": "PO-77"},
        )
        assert r.status_code == 201
    await tap.wait_for("inventory.stock_changed.v1", body_has(sku=sku, available_total=10))
    assert len(tap.find("inventory.low_stock.v1", body_has(sku=sku))) == 1, "re-armed, not re-fired"


async def test_a_sale_buffer_holds_units_back_from_orders(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("BUFFER")
    await seed_stock(sku, {"GGN1": 3})
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("ops")) as http:
        r = await http.put(
            url("inventory", f"/stock/{sku}/levels"), json={"buffer": 2, "warehouse_codes": ["GGN1"]}
        )
        assert r.status_code == 200, r.text
        assert r.json()["warehouses"][0]["available"] == 1
        r = await http.put(
            url("inventory", f"/stock/{sku}/levels"), json={"buffer": 1, "warehouse_codes": ["BLR1"]}
        )
        assert r.status_code == 404
        assert r.json()["problems"][0]["field"] == "warehouse_codes"
    changes = await tap.wait_for("inventory.stock_changed.v1", body_has(sku=sku, available_total=1))
    await wait_applied("routing", ce_id(changes[-1]))
    channel_order_id = await place(producer, sku, quantity=2)
    placed = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=channel_order_id))
    order_id = value(placed[0])["order_id"]
    failed = await tap.wait_for("inventory.reservation_failed.v1", body_has(order_id=order_id, final=True))
    assert value(failed[0])["reason"] == "routing found no warehouse"
    assert (await stock(sku))["GGN1"]["reserved"] == 0


async def test_operators_adjust_and_transfer_stock_and_every_change_is_in_the_ledger_with_who(
    stack: Stack,
) -> None:
    sku = unique("MOVE")
    await seed_stock(sku, {"BOM1": 10})
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("warehouse")) as http:
        r = await http.post(
            url("inventory", "/stock/adjustments"),
            json={"sku": sku, "warehouse_code": "BOM1", "delta": 2, "reason": "damage"},
        )
        assert r.status_code == 422
        assert r.json()["problems"] == [
            {"field": "delta", "problem": "Value error, a damage takes units away, so it must be negative"}
        ]
        r = await http.post(
            url("inventory", "/stock/adjustments"),
            json={"sku": sku, "warehouse_code": "BOM1", "delta": -2, "reason": "damage", "note": "rack C4"},
        )
        assert r.status_code == 201, r.text
        r = await http.post(
            url("inventory", "/stock/transfers"),
            json={"sku": sku, "from_warehouse": "BOM1", "to_warehouse": "BLR1", "quantity": 50},
        )
        assert r.status_code == 409 and r.json()["problems"][0]["field"] == "quantity"
        r = await http.post(
            url("inventory", "/stock/transfers"),
            json={
                "sku": sku,
                "from_warehouse": "BOM1",
                "to_warehouse": "BLR1",
                "quantity": 5,
                "reference": "STN-1",
            },
        )
        assert r.status_code == 201, r.text
        numbers = {w["warehouse_code"]: w["on_hand"] for w in r.json()["warehouses"]}
        assert numbers == {"BOM1": 3, "BLR1": 5}
        ledger = (await http.get(url("inventory", f"/stock/{sku}/movements"))).json()["items"]
    assert [(m["warehouse_code"], m["on_hand_delta"], m["kind"]) for m in reversed(ledger)] == [
        ("BOM1", 10, "receipt"),
        ("BOM1", -2, "adjustment:damage"),
        ("BOM1", -5, "transfer_out"),
        ("BLR1", 5, "transfer_in"),
    ]
    assert {m["actor"] for m in ledger[:3]} == {"warehouse:warehouse"}


async def test_item_master_csv_import_names_row_and_column_and_writes_nothing_when_a_row_is_bad(
    stack: Stack,
) -> None:
    tea, kurta = unique("TEA"), unique("KURTA")
    good = (
        "sku,name,category,barcode,weight_grams,hsn_code,mrp_paise\n"
        f"{tea},Assam tea 250 g,tea,,270,0902,34900\n"
        f"{kurta},Cotton kurta M,apparel,,350,6206,129900\n"
    )
    bad = good + f"{unique('CABLE')},USB-C cable,electronics,123,0,85444299,199\n"
    csv = {"content-type": "text/csv"}
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("ops")) as http:
        r = await http.post(url("inventory", "/items/import"), content=bad, headers=csv)
        assert r.status_code == 422
        assert [p["field"] for p in r.json()["problems"]] == ["row 4.barcode", "row 4.weight_grams"]
        assert (await http.get(url("inventory", f"/items/{tea}"))).status_code == 404, "all rows or none"
        r = await http.post(url("inventory", "/items/import"), content=good, headers=csv)
        assert r.status_code == 200, r.text
        assert r.json()["imported"] == 2
        item = (await http.get(url("inventory", f"/items/{kurta}"))).json()
        assert (item["hsn_code"], item["mrp_paise"], item["updated_by"]) == ("6206", 129900, "ops:ops")
        r = await http.put(
            url("inventory", f"/items/{tea}"),
            json={
                "sku": tea,
                "name": "Assam tea 250 g",
                "weight_grams": 270,
                "mrp_paise": 36900,
                "barcode": "8901030865278",
            },
        )
        assert r.status_code == 422 and r.json()["problems"][0]["field"] == "barcode"
        assert (await http.delete(url("inventory", f"/items/{kurta}"))).status_code == 204


async def test_unconfirmed_reservations_expire_but_a_confirmed_order_keeps_its_stock(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("EXPIRY")
    await seed_stock(sku, {"BLR1": 4})
    stack.stop("inventory")
    stack.start("inventory", extra_env={"RESERVATION_TTL_MINUTES": "0.05", "EXPIRY_SWEEP_SECONDS": "1"})
    try:
        stack.wait_ready(["inventory"], timeout=90)
        unpaid, paid = unique("ORD-UNPAID"), unique("ORD-PAID")
        for order_id in (unpaid, paid):
            plan = single_plan(order_id, sku, "BLR1", 2)
            await publish_event(producer, plan, source="routing")
            await tap.wait_for("inventory.reserved.v1", body_has(order_id=order_id))
        confirmed = examples.order_confirmed().model_copy(update={"order_id": paid})
        await wait_applied("inventory", (await publish_event(producer, confirmed, source="orders")).id)

        released = await tap.wait_for("inventory.released.v1", body_has(order_id=unpaid), timeout=90)
        assert value(released[0])["reason"].startswith("reservation expired unconfirmed")
        await asyncio.sleep(5)  # several more sweeps: the confirmed order must survive them
        assert tap.find("inventory.released.v1", body_has(order_id=paid)) == []
        numbers = (await stock(sku))["BLR1"]
        assert (numbers["on_hand"], numbers["reserved"], numbers["available"]) == (4, 2, 2)

        late = examples.order_confirmed().model_copy(update={"order_id": unpaid})
        await wait_applied("inventory", (await publish_event(producer, late, source="orders")).id)
        await asyncio.sleep(3)  # sweeps run; a confirmed reservation is not theirs to release
        numbers = (await stock(sku))["BLR1"]
        assert (numbers["reserved"], numbers["available"]) == (4, 0), "paid late: its units are held again"
    finally:
        stack.stop("inventory")
        stack.start("inventory")
        stack.wait_ready(["inventory"], timeout=90)


async def test_cancelling_releases_the_stock_and_a_plan_arriving_after_the_cancel_reserves_nothing(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("CANCEL")
    await seed_stock(sku, {"BOM1": 3})
    reserved_then_cancelled, cancelled_first = unique("ORD-A"), unique("ORD-B")
    await publish_event(producer, single_plan(reserved_then_cancelled, sku, "BOM1", 2), source="routing")
    await tap.wait_for("inventory.reserved.v1", body_has(order_id=reserved_then_cancelled))
    for order_id in (reserved_then_cancelled, cancelled_first):
        cancel = examples.order_cancelled().model_copy(update={"order_id": order_id})
        await wait_applied("inventory", (await publish_event(producer, cancel, source="orders")).id)
    released = await tap.wait_for("inventory.released.v1", body_has(order_id=reserved_then_cancelled))
    assert value(released[0])["allocations"] == [{"warehouse_code": "BOM1", "sku": sku, "quantity": 2}]

    late = await publish_event(producer, single_plan(cancelled_first, sku, "BOM1", 1), source="routing")
    await wait_applied("inventory", late.id)
    assert tap.find("inventory.reserved.v1", body_has(order_id=cancelled_first)) == []
    numbers = (await stock(sku))["BOM1"]
    assert (numbers["on_hand"], numbers["reserved"]) == (3, 0)


async def test_a_sku_pinned_to_bengaluru_ships_from_there_and_explain_says_why(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("PINNED")
    await seed_stock(sku, {"GGN1": 5, "BLR1": 5})
    await stock_seen_by_routing(tap, sku, count=2)
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("ops")) as http:
        r = await http.post(
            url("routing", "/rules"), json={"kind": "exclude_pincodes", "warehouse_code": "GGN1"}
        )
        assert r.status_code == 422
        assert [p["field"] for p in r.json()["problems"]] == ["pincode_from", "pincode_to"]
        r = await http.post(
            url("routing", "/rules"), json={"kind": "pin_sku", "warehouse_code": "XXX9", "sku": sku}
        )
        assert r.status_code == 422 and r.json()["problems"][0]["field"] == "warehouse_code"
        r = await http.post(
            url("routing", "/rules"), json={"kind": "pin_sku", "warehouse_code": "BLR1", "sku": sku}
        )
        assert r.status_code == 201, r.text
        rule_id = r.json()["id"]
    try:
        channel_order_id = await place(producer, sku, quantity=1)
        placed = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=channel_order_id))
        order_id = value(placed[0])["order_id"]
        reserved = await tap.wait_for("inventory.reserved.v1", body_has(order_id=order_id))
        assert value(reserved[0])["allocations"][0]["warehouse_code"] == "BLR1", (
            "Gurugram is nearer, but not allowed"
        )
        # Routing records the outcome when it consumes inventory.reserved.v1, a moment after the tap.
        await wait_applied("routing", ce_id(reserved[0]))
        async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
            explained = (await http.get(url("routing", f"/routes/{order_id}/explain"))).json()
        attempt = explained["attempts"][0]
        assert f"{sku} is pinned to BLR1" in attempt["left_out"]
        assert attempt["plans"][0]["reasons"][0].startswith(
            "ships complete from one warehouse: Bengaluru (BLR1)"
        )
        assert attempt["outcome"] == "reserved plan 1"
    finally:
        async with httpx.AsyncClient(timeout=10, headers=dev_headers("ops")) as http:
            assert (await http.delete(url("routing", f"/rules/{rule_id}"))).status_code == 204
