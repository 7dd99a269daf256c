"""Flipkart's shipments in our terms, and the Flipkart adapter against the sandbox's Flipkart seller
(in-process, no network): a window paged through its phases with the place kept in the page token,
addresses fetched per page, a refused SKU reported while the rest of its batch is taken, a token
renewed when Flipkart refuses it, and dispatch told the way Flipkart's docs say for who carries it."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import asyncpg
import httpx
import pytest

from chassis.ratelimit import Limit, RateLimiter
from contracts import Channel, ChannelOrder, PaymentMethod, PaymentStatus
from sandbox.app import create_app
from sandbox.flipkart import FlipkartState
from sandbox.settings import SandboxSettings
from services.channels import domain
from services.channels.stores.flipkart import (
    PHASES,
    FlipkartMarketplace,
    label_of,
    next_page_path,
    order_of,
    pack_request,
    page_token,
    read_page_token,
    refused_skus,
)
from services.channels.stores.interface import (
    Account,
    Listing,
    MarketplaceInvoice,
    MarketplaceLabel,
    SkusRefused,
    StockLevel,
    StoreError,
    StoreOrder,
    Tracking,
)

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def shipment(status: str = "APPROVED", phase: str = "flipkart_ships", **extra: Any) -> dict[str, Any]:
    """A shipment as POST /v3/shipments/filter lists it, with its GET /v3/shipments/{ids} details."""
    return {
        "phase": phase,
        "cancellation_type": "buyerCancellation" if phase == "cancelled" else None,
        "shipment": {
            "shipmentId": "b4d6c8e2-1f3a-4c5d-9e7f-123456789abc",
            "updatedAt": "2026-12-06T04:30:00.000Z",
            "hold": False,
            "locationId": "LOC1",
            "orderItems": [
                {
                    "orderItemId": "11223344556677",
                    "orderId": "OD428000000000001",
                    "orderDate": "2026-12-06T04:15:00.000Z",
                    "paymentType": "PREPAID",
                    "status": status,
                    "quantity": 2,
                    "fsn": "TEAFGH4K2M9X1Z",
                    "sku": "FK-ASSAM",
                    "title": "Assam tea 250 g",
                    "priceComponents": {
                        "sellingPrice": 698.0,
                        "totalPrice": 738.0,
                        "shippingCharge": 40.0,
                        "customerPrice": 698.0,
                        "flipkartDiscount": 0.0,
                    },
                    "serviceProfile": "NON_FBF",
                }
            ],
            **extra,
        },
        "details": {
            "shipmentId": "b4d6c8e2-1f3a-4c5d-9e7f-123456789abc",
            "deliveryAddress": {
                "firstName": "आशा",
                "lastName": "वर्मा",
                "addressLine1": "12 MI Road",
                "addressLine2": "",
                "landmark": "near Panch Batti",
                "city": "Jaipur",
                "stateCode": "IN-RJ",
                "state": "Rajasthan",
                "pincode": "302001",
                "contactNumber": "+919812345678",
            },
        },
    }


def _read(payload: dict[str, Any]) -> StoreOrder:
    return order_of(json.loads(json.dumps(payload)))


def test_a_flipkart_shipment_reads_as_one_order_with_the_line_price_per_unit_and_the_buyer_in_hindi() -> None:
    order = _read(shipment())
    assert order.store_order_id == "b4d6c8e2-1f3a-4c5d-9e7f-123456789abc"
    assert order.name == "OD428000000000001"
    assert order.customer["name"] == "आशा वर्मा"
    assert order.shipping_address["state"] == "Rajasthan"
    assert order.shipping_address["landmark"] == "near Panch Batti"
    [line] = order.lines
    assert (line.channel_sku, line.quantity, line.unit_price_paise) == ("FK-ASSAM", 2, 34900)
    assert (order.shipping_fee_paise, order.total_paise) == (4000, 73800)
    assert order.payment.status is PaymentStatus.CAPTURED and order.payment.gateway == "flipkart"
    assert order.shipped_by_marketplace and not order.cancelled and not order.awaiting_payment


def test_flipkart_cod_self_ship_hold_fbf_and_a_buyer_cancellation_are_read() -> None:
    cod = shipment()
    cod["shipment"]["orderItems"][0]["paymentType"] = "COD"
    assert _read(cod).payment.method is PaymentMethod.COD
    assert not _read(shipment(phase="seller_ships")).shipped_by_marketplace
    assert _read(shipment(hold=True)).awaiting_payment
    fbf = shipment()
    fbf["shipment"]["orderItems"][0]["serviceProfile"] = "FBF"
    assert _read(fbf).fulfilled_by_marketplace
    gone = shipment("CANCELLED", phase="cancelled")
    gone["shipment"]["orderItems"][0]["cancellationReason"] = "order_cancelled_by_buyer"
    read = _read(gone)
    assert read.cancelled and read.buyer_cancel_reason == "order_cancelled_by_buyer"


def test_a_shipment_flipkart_carries_goes_to_orders_saying_so_and_a_self_ship_one_does_not() -> None:
    skus = domain.Mappings(by_channel_sku={"FK-ASSAM": "TEA-ASSAM-250"}, by_variant={})
    carried, ours = (
        domain.to_channel_order(
            _read(shipment(phase=phase)), channel=Channel.FLIPKART, account="fk", mappings=skus
        )
        for phase in ("flipkart_ships", "seller_ships")
    )
    assert isinstance(carried, ChannelOrder) and isinstance(ours, ChannelOrder)
    assert carried.shipped_by_marketplace and not ours.shipped_by_marketplace
    assert json.loads(carried.model_dump_json())["shipped_by_marketplace"] is True
    assert "shipped_by_marketplace" not in json.loads(ours.model_dump_json())  # reads as before


@pytest.mark.parametrize(
    "status,hold,known,known_cancelled,taken",
    [
        ("APPROVED", False, False, False, True),  # new, to be packed
        ("APPROVED", True, False, False, False),  # on hold: its release lists it again
        ("CANCELLED", False, False, False, False),  # cancelled before we saw it: never ours
        ("PACKED", False, True, False, False),  # seen already
        ("CANCELLED", False, True, False, True),  # ours, now cancelled: taken in once
        ("CANCELLED", False, True, True, False),  # and not again
        ("PICKUP_COMPLETE", False, False, False, False),  # news of a parcel on its way, never an order
        ("DELIVERED", False, True, False, False),
    ],
)
def test_a_poll_takes_in_new_flipkart_shipments_and_cancellations_of_known_ones_once(
    status: str, hold: bool, known: bool, known_cancelled: bool, taken: bool
) -> None:
    phases = {"CANCELLED": "cancelled", "PICKUP_COMPLETE": "dispatched", "DELIVERED": "dispatched"}
    order = _read(shipment(status, phase=phases.get(status, "flipkart_ships"), hold=hold))
    assert domain.marketplace_takes(order, known=known, known_cancelled=known_cancelled) is taken


def test_a_page_token_keeps_the_phase_and_flipkarts_next_page_and_refuses_anything_else() -> None:
    assert read_page_token(page_token(2, "/v3/shipments/filter?next_token=abc")) == (
        2,
        "/v3/shipments/filter?next_token=abc",
    )
    assert read_page_token(page_token(1, None)) == (1, None)
    for bad in ("x|", f"{len(PHASES)}|", "NextToken"):
        with pytest.raises(ValueError):
            read_page_token(bad)


def test_a_next_page_url_stays_on_the_accounts_host() -> None:
    assert next_page_path("/v3/shipments/filter?next_token=a") == "/sellers/v3/shipments/filter?next_token=a"
    assert (
        next_page_path("/sellers/v3/shipments/filter?next_token=a")
        == "/sellers/v3/shipments/filter?next_token=a"
    )
    with pytest.raises(StoreError):
        next_page_path("https://elsewhere.example/v3/shipments/filter")


def test_each_sku_of_an_inventory_batch_is_taken_or_refused_on_its_own() -> None:
    sent = [StockLevel(Listing(channel_sku=s, product_id="P"), q) for s, q in (("A", 3), ("B", 4), ("C", 5))]
    shown, refused = refused_skus(
        {
            "A": {"status": "SUCCESS"},
            "B": {"status": "FAILURE", "errors": [{"description": "listing is inactive"}]},
            "C": {"status": "WARNING"},
        },
        sent,
    )
    assert shown == {"A": 3, "C": 5}
    assert refused == {"B": "FAILURE: listing is inactive"}
    assert refused_skus({}, sent[:1]) == ({}, {"A": "no answer for this SKU: no reason given"})


# --- the adapter against the sandbox's Flipkart seller -------------------------------------------


class Unlimited(RateLimiter):
    """Grants every token and notes which bucket it came from (the sandbox still counts its plan)."""

    def __init__(self) -> None:
        super().__init__(lambda: cast(asyncpg.Pool, None))
        self.taken: list[str] = []

    async def acquire(self, bucket: str, limit: Limit) -> None:
        self.taken.append(bucket)


@pytest.fixture
async def flipkart() -> AsyncIterator[tuple[httpx.AsyncClient, FlipkartState]]:
    app = create_app(SandboxSettings(http_port=8010, courier_token=None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
        yield client, app.state.flipkart


async def seller(
    client: httpx.AsyncClient, state: FlipkartState, **setup: Any
) -> tuple[Account, dict[str, str]]:
    """A sandbox seller whose clock moves a second a call, so its usage plans never run dry in a test."""
    ticks = itertools.count()
    state.seller("fk-one").plans.clock = lambda: float(next(ticks))
    r = await client.put("/_sandbox/flipkart/fk-one", json=setup)
    r.raise_for_status()
    account = Account(
        account="fk-one",
        platform="flipkart",
        base_url="http://sandbox/flipkart/fk-one",
        webhook_secret="",
        api_key="fk-app-id",
        api_secret="fk-app-secret",
        location_id=r.json()["location_id"],
        auth_url="http://sandbox/flipkart/fk-one/oauth-service/oauth/token",
    )
    return account, r.json()["product_ids"]


async def test_a_window_is_paged_through_every_phase_and_each_shipment_listed_once(
    flipkart: tuple[httpx.AsyncClient, FlipkartState],
) -> None:
    client, state = flipkart
    account, _ = await seller(client, state, products=[{"sku": "FK-ASSAM"}], page_size_cap=2)
    placed = []
    for self_ship in (False, False, False, True):
        r = await client.post(
            "/_sandbox/flipkart/fk-one/orders",
            json={"lines": [{"sku": "FK-ASSAM"}], "self_ship": self_ship, "updated_seconds_ago": 60},
        )
        placed.append(r.json()["shipment_id"])
    gone = (
        await client.post("/_sandbox/flipkart/fk-one/orders", json={"lines": [{"sku": "FK-ASSAM"}]})
    ).json()
    await client.post(
        f"/_sandbox/flipkart/fk-one/orders/{gone['shipment_id']}/cancel", json={"by": "buyerCancellation"}
    )
    adapter = FlipkartMarketplace(client, Unlimited(), clock=lambda: datetime.now(UTC) + timedelta(seconds=1))

    pages, token = [], None
    since = datetime.now(UTC) - timedelta(hours=1)
    until = None
    while True:
        page = await adapter.orders_page(account, since=since, until=until, page=token)
        pages.append(page)
        until, token = page.until, page.next_page
        if token is None:
            break
    orders = [adapter.read_order(p.delivery) for page in pages for p in page.orders]
    listed = [o.store_order_id for o in orders if o is not None]
    assert sorted(listed) == sorted([*placed, gone["shipment_id"]])
    assert {o.store_order_id: o.shipped_by_marketplace for o in orders if o and not o.cancelled} == {
        **{s: True for s in placed[:3]},
        placed[3]: False,
    }
    assert next(o for o in orders if o and o.cancelled).store_order_id == gone["shipment_id"]
    assert all(o.customer["name"] == "Asha Verma" for o in orders if o and not o.cancelled)
    assert state.seller("fk-one").next_pages_used == 1, "the first phase's second page came by nextPageUrl"
    assert len({p.until for p in pages}) == 1, "every page of the window kept the end the first one fixed"


async def test_an_expired_token_is_renewed_once_and_the_call_goes_through(
    flipkart: tuple[httpx.AsyncClient, FlipkartState],
) -> None:
    client, state = flipkart
    account, _ = await seller(client, state, products=[{"sku": "FK-ASSAM"}])
    adapter = FlipkartMarketplace(client, Unlimited())
    await adapter.orders_page(account, since=NOW, until=None, page=None)
    await client.post("/_sandbox/flipkart/fk-one/expire-tokens")
    await adapter.orders_page(account, since=NOW, until=None, page=None)
    assert state.seller("fk-one").tokens_issued == 2
    assert adapter.tokens.fetched == 2


async def test_a_refused_sku_is_reported_while_the_rest_of_its_batch_is_set(
    flipkart: tuple[httpx.AsyncClient, FlipkartState],
) -> None:
    client, state = flipkart
    account, products = await seller(
        client, state, products=[{"sku": f"FK-{i}"} for i in range(3)], refused_skus=["FK-1"]
    )
    adapter = FlipkartMarketplace(client, Unlimited())
    levels = [StockLevel(Listing(channel_sku=s, product_id=p), 7) for s, p in products.items()]
    levels.append(StockLevel(Listing(channel_sku="FK-UNMAPPED"), 2))
    with pytest.raises(SkusRefused) as refused:
        await adapter.set_stock(account, levels)
    assert refused.value.shown == {"FK-0": 7, "FK-2": 7}
    assert set(refused.value.refused) == {"FK-1", "FK-UNMAPPED"}
    assert "not listed" in refused.value.refused["FK-1"]
    assert state.seller("fk-one").stock == {"FK-0": 7, "FK-1": 100, "FK-2": 7}
    assert await adapter.read_stock(account, [Listing(channel_sku="FK-0"), Listing(channel_sku="FK-X")]) == {
        "FK-0": 7
    }


async def test_dispatch_is_ready_to_dispatch_for_flipkarts_courier_and_self_ship_with_our_awb(
    flipkart: tuple[httpx.AsyncClient, FlipkartState],
) -> None:
    client, state = flipkart
    account, _ = await seller(client, state, products=[{"sku": "FK-ASSAM"}])
    theirs = (
        await client.post("/_sandbox/flipkart/fk-one/orders", json={"lines": [{"sku": "FK-ASSAM"}]})
    ).json()
    ours = (
        await client.post(
            "/_sandbox/flipkart/fk-one/orders", json={"lines": [{"sku": "FK-ASSAM"}], "self_ship": True}
        )
    ).json()
    adapter = FlipkartMarketplace(client, Unlimited())
    await adapter.fulfil(
        account, theirs["shipment_id"], Tracking("ekart", "", None, shipped_by_marketplace=True)
    )
    await adapter.fulfil(account, ours["shipment_id"], Tracking("delhivery", "DLV123456789", None))
    dispatched = {d["shipmentId"]: d for d in state.seller("fk-one").dispatched}
    assert dispatched[theirs["shipment_id"]]["kind"] == "rtd"
    assert dispatched[ours["shipment_id"]]["trackingId"] == "DLV123456789"
    assert dispatched[ours["shipment_id"]]["deliveryPartnerCode"] == "DELHIVERY"
    with pytest.raises(StoreError, match="NOT_SELF_SHIP"):
        # told the wrong way round, Flipkart refuses rather than losing the parcel's news
        await adapter.fulfil(account, theirs["shipment_id"], Tracking("delhivery", "DLV1", None))


# --- the label with our invoice, and what Flipkart reports after dispatch (ADR 370, 371) ------------

INVOICE = MarketplaceInvoice(
    number="INV/26-27/000042", issued_at=datetime(2026, 12, 6, 20, 0, tzinfo=UTC), rates={"FK-ASSAM": "5"}
)


def test_collected_shipped_and_delivered_after_dispatch_read_as_news_for_shipping() -> None:
    assert [
        (o.news_status, o.news_code, o.shipped_by_marketplace)
        for o in (
            _read(shipment(state, phase="dispatched"))
            for state in ("PICKUP_COMPLETE", "SHIPPED", "DELIVERED")
        )
    ] == [
        ("PICKED_UP", "PICKUP_COMPLETE", True),
        ("PICKED_UP", "SHIPPED", True),
        ("DELIVERED", "DELIVERED", True),
    ]
    assert _read(shipment()).news_status is None
    assert PHASES[-1][1]["type"] == "postDispatch", "added last: a saved page token names the same phase"


def test_the_pack_call_carries_our_invoice_number_its_ist_date_and_each_items_rate_never_guessed() -> None:
    [packed] = pack_request(_read_raw(), INVOICE, "LOC1")["shipments"]
    assert packed["taxItems"] == [{"orderItemId": "11223344556677", "taxRate": 5.0, "quantity": 2}]
    assert packed["invoices"] == [
        {
            "orderId": "OD428000000000001",
            "invoiceDate": "2026-12-07T01:30:00+05:30",
            "invoiceNumber": "INV/26-27/000042",
        }
    ]
    with pytest.raises(ValueError, match=r"orderItems.0: no GST rate .* 'FK-ASSAM'"):
        pack_request(_read_raw(), MarketplaceInvoice("INV/1", INVOICE.issued_at, {"FK-OTHER": "12"}), "LOC1")
    skus = domain.Mappings(
        by_channel_sku={"FK-ASSAM": "TEA-ASSAM-250", "FK-X": "TEA-X"}, by_variant={"FSN1": "TEA-ASSAM-250"}
    )
    assert domain.label_rates(skus, {"TEA-ASSAM-250": "5"}) == {"FK-ASSAM": "5", "FSN1": "5"}


def test_the_awb_is_read_from_the_delivery_details_once_flipkart_generated_the_label() -> None:
    assert label_of({"subShipments": []}) is None
    courier = {"deliveryDetails": {"vendorName": "Ekart Logistics", "trackingId": "FMPC0000000042"}}
    assert label_of(
        {"subShipments": [{"subShipmentId": "s1", "courierDetails": courier}]}
    ) == MarketplaceLabel("FMPC0000000042", "Ekart Logistics")


def _read_raw() -> dict[str, Any]:
    return dict(shipment()["shipment"])


async def test_flipkart_labels_a_parcel_with_our_invoice_once_and_gives_its_awb(
    flipkart: tuple[httpx.AsyncClient, FlipkartState],
) -> None:
    client, state = flipkart
    account, _ = await seller(client, state, products=[{"sku": "FK-ASSAM"}])
    placed = (
        await client.post("/_sandbox/flipkart/fk-one/orders", json={"lines": [{"sku": "FK-ASSAM"}]})
    ).json()
    adapter = FlipkartMarketplace(client, Unlimited())
    with pytest.raises(StoreError, match="INVALID_SHIPMENTS"):
        await adapter.label_pdf(account, placed["shipment_id"])  # not packed: no label to print
    with pytest.raises(StoreError, match="no GST rate") as unrated:
        await adapter.label(
            account, placed["shipment_id"], MarketplaceInvoice("INV/1", INVOICE.issued_at, {})
        )
    assert not unrated.value.retryable and state.seller("fk-one").packed == []
    label = await adapter.label(account, placed["shipment_id"], INVOICE)
    [packed] = state.seller("fk-one").packed
    assert (label.awb, label.carrier) == (packed["awb"], "Ekart Logistics")
    assert packed["request"]["taxItems"][0]["taxRate"] == 5.0
    assert packed["request"]["invoices"][0]["invoiceNumber"] == "INV/26-27/000042"
    again = await adapter.label(account, placed["shipment_id"], INVOICE)
    assert again == label and len(state.seller("fk-one").packed) == 1, "packed once, its label read again"
    pdf = await adapter.label_pdf(account, placed["shipment_id"])
    assert pdf.startswith(b"%PDF-") and label.awb.encode() in pdf


async def test_the_sandbox_refuses_a_pack_without_the_invoice_or_a_tax_rate_as_flipkart_documents(
    flipkart: tuple[httpx.AsyncClient, FlipkartState],
) -> None:
    client, state = flipkart
    account, _ = await seller(client, state, products=[{"sku": "FK-ASSAM"}])
    placed = (
        await client.post("/_sandbox/flipkart/fk-one/orders", json={"lines": [{"sku": "FK-ASSAM"}]})
    ).json()
    token = (
        await client.get(
            "/flipkart/fk-one/oauth-service/oauth/token",
            params={"grant_type": "client_credentials"},
            auth=("fk-app-id", "fk-app-secret"),
        )
    ).json()["access_token"]
    item = placed["shipment"]["orderItems"][0]
    whole = {
        "shipmentId": placed["shipment_id"],
        "locationId": account.location_id,
        "taxItems": [{"orderItemId": item["orderItemId"], "taxRate": 5, "quantity": 1}],
        "invoices": [
            {"orderId": item["orderId"], "invoiceDate": "2026-12-07T01:30:00+05:30", "invoiceNumber": "I/1"}
        ],
    }

    async def pack(entry: dict[str, Any]) -> dict[str, Any]:
        r = await client.post(
            "/flipkart/fk-one/sellers/v3/shipments/labels",
            json={"shipments": [entry]},
            headers={"Authorization": f"Bearer {token}"},
        )
        r.raise_for_status()
        [result] = r.json()["shipments"]
        return dict(result)

    no_invoice = await pack({**whole, "invoices": []})
    no_tax = await pack({**whole, "taxItems": []})
    bad_tax = await pack({**whole, "taxItems": [{**whole["taxItems"][0], "taxRate": 118}]})
    assert (no_invoice["status"], no_invoice["errorCode"]) == ("FAILURE", "UNPROCESSABLE_ENTITY")
    assert "invoiceDate" in no_invoice["errorMessage"]
    assert (no_tax["errorCode"], bad_tax["errorCode"]) == ("UNPROCESSABLE_ENTITY", "INVALID_REQUEST_TAX")
    assert state.seller("fk-one").packed == []
    assert (await pack(whole))["status"] == "SUCCESS"
    assert (await pack(whole))["errorCode"] == "INVALID_ITEM_STATE", "a packed shipment is not packed again"
