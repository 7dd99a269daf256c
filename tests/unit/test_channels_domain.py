"""Channels' pure core: store payloads read into our terms, SKU mapping, signatures, CSV imports,
the stock number a store shows, and push backoff."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from contracts import Channel, ChannelOrder, PaymentMethod, PaymentStatus, ShipmentStatus
from services.channels import domain
from services.channels.stores.interface import Account, Delivery, StoreUnreadable, WebhookRefused
from services.channels.stores.shopify import ShopifyStore, read_order_payload
from services.channels.stores.woocommerce import WooCommerceStore
from services.channels.stores.woocommerce import read_order_payload as read_woo

SECRET = "dev-shopify-secret-local"
ACCOUNT = Account(account="demo-shopify", platform="shopify", base_url="http://s", webhook_secret=SECRET)
WOO = Account(account="demo-woo", platform="woocommerce", base_url="http://w", webhook_secret="woo-secret-1")


def shopify_order(**overrides: Any) -> dict[str, Any]:
    """An orders/create body in Shopify's documented shape (REST Order resource), Indian values."""
    address = {
        "first_name": "Asha",
        "last_name": "Verma",
        "address1": "12 MI Road",
        "address2": "",
        "city": "Jaipur",
        "province": "Rajasthan",
        "province_code": "RJ",
        "zip": "302001",
        "country": "India",
        "country_code": "IN",
        "phone": "098123 45678",
        "name": "Asha Verma",
    }
    order = {
        "id": 5940139491234,
        "admin_graphql_api_id": "gid://shopify/Order/5940139491234",
        "name": "#1001",
        "email": "asha@example.com",
        "created_at": "2026-11-26T10:15:00+05:30",
        "currency": "INR",
        "total_price": "748.00",
        "subtotal_price": "698.00",
        "total_discounts": "0.00",
        "total_shipping_price_set": {"shop_money": {"amount": "50.00", "currency_code": "INR"}},
        "financial_status": "pending",
        "payment_gateway_names": ["Cash on Delivery (COD)"],
        "cancelled_at": None,
        "shipping_address": address,
        "customer": {"first_name": "Asha", "last_name": "Verma", "email": "asha@example.com"},
        "line_items": [
            {
                "id": 1,
                "variant_id": 4451,
                "product_id": 88,
                "sku": "ASSAM-250G",
                "quantity": 2,
                "price": "349.00",
            }
        ],
    }
    return {**order, **overrides}


def b64(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def mapped(**skus: str) -> domain.Mappings:
    return domain.Mappings(by_channel_sku=skus, by_variant={})


# --- signatures ---------------------------------------------------------------------------------


def test_a_shopify_webhook_signed_with_the_account_secret_is_accepted() -> None:
    body = json.dumps(shopify_order()).encode()
    headers = {
        "x-shopify-hmac-sha256": b64(SECRET, body),
        "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "x-shopify-topic": "orders/create",
    }
    delivery = ShopifyStore.verify_webhook(ShopifyStore.__new__(ShopifyStore), ACCOUNT, headers, body)
    assert delivery == Delivery("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", "orders/create", body)


@pytest.mark.parametrize(
    "signature",
    [None, "", b64("another-secret", b"{}"), "not base64 at all ✓"],
)
def test_a_forged_or_unsigned_shopify_webhook_is_refused_before_its_body_is_read(
    signature: str | None,
) -> None:
    body = b"{not even json"
    headers = {"x-shopify-webhook-id": "1", "x-shopify-topic": "orders/create"}
    if signature is not None:
        headers["x-shopify-hmac-sha256"] = signature
    with pytest.raises(WebhookRefused) as refused:
        ShopifyStore.verify_webhook(ShopifyStore.__new__(ShopifyStore), ACCOUNT, headers, body)
    assert refused.value.status == 401


def test_one_changed_byte_breaks_the_signature() -> None:
    body = json.dumps(shopify_order()).encode()
    headers = {
        "x-shopify-hmac-sha256": b64(SECRET, body),
        "x-shopify-webhook-id": "1",
        "x-shopify-topic": "t",
    }
    with pytest.raises(WebhookRefused):
        ShopifyStore.verify_webhook(
            ShopifyStore.__new__(ShopifyStore), ACCOUNT, headers, body.replace(b"748.00", b"748.01")
        )


def test_a_woocommerce_webhook_is_verified_by_x_wc_webhook_signature() -> None:
    body = b'{"id": 727}'
    headers = {
        "x-wc-webhook-signature": b64("woo-secret-1", body),
        "x-wc-webhook-delivery-id": "91",
        "x-wc-webhook-topic": "order.created",
    }
    woo = WooCommerceStore.__new__(WooCommerceStore)
    assert woo.verify_webhook(WOO, headers, body).delivery_id == "91"
    with pytest.raises(WebhookRefused):
        woo.verify_webhook(
            WOO, {**headers, "x-wc-webhook-signature": b64("dev-shopify-secret-local", body)}, body
        )


# --- reading orders -----------------------------------------------------------------------------


def test_a_shopify_cod_order_becomes_a_cod_channel_order_with_mapped_skus() -> None:
    order = read_order_payload(shopify_order())
    result = domain.to_channel_order(
        order,
        channel=Channel.SHOPIFY,
        account="demo-shopify",
        mappings=mapped(**{"ASSAM-250G": "TEA-ASSAM-250"}),
    )
    assert isinstance(result, ChannelOrder)
    assert result.channel_order_id == "demo-shopify-5940139491234"
    assert [(line.sku, line.quantity, line.unit_price_paise) for line in result.lines] == [
        ("TEA-ASSAM-250", 2, 34900)
    ]
    assert (result.shipping_fee_paise, result.discount_paise, result.total_paise) == (5000, 0, 74800)
    assert result.payment.method is PaymentMethod.COD and result.payment.status is PaymentStatus.PENDING
    assert result.shipping_address.state == "Rajasthan" and result.shipping_address.pincode == "302001"
    assert result.customer.phone == "098123 45678"  # orders normalises it, as for every channel
    assert result.placed_at == datetime(2026, 11, 26, 4, 45, tzinfo=UTC)


def test_a_paid_shopify_order_is_captured_by_its_gateway() -> None:
    order = read_order_payload(
        shopify_order(financial_status="paid", payment_gateway_names=["razorpay"], checkout_token="c0ffee")
    )
    assert order.payment.status is PaymentStatus.CAPTURED
    assert (order.payment.gateway, order.payment.gateway_payment_id) == ("razorpay", "c0ffee")


def test_a_line_whose_sku_has_no_mapping_goes_out_to_be_rejected_naming_the_sku() -> None:
    order = read_order_payload(shopify_order())
    result = domain.to_channel_order(
        order, channel=Channel.SHOPIFY, account="demo-shopify", mappings=mapped()
    )
    assert isinstance(result, ChannelOrder)
    assert result.lines[0].sku == "ASSAM-250G"
    assert [(p.field, p.problem) for p in result.channel_problems] == [
        (
            "lines.0.sku",
            "channel SKU 'ASSAM-250G' (variant 4451) on demo-shopify has no mapping to a Dabba SKU",
        )
    ]


def test_a_line_without_a_sku_maps_by_its_variant_id() -> None:
    order = read_order_payload(
        shopify_order(line_items=[{"variant_id": 4451, "sku": "", "quantity": 1, "price": "748.00"}])
    )
    result = domain.to_channel_order(
        order,
        channel=Channel.SHOPIFY,
        account="demo-shopify",
        mappings=domain.Mappings(by_channel_sku={}, by_variant={"4451": "TEA-ASSAM-250"}),
    )
    assert isinstance(result, ChannelOrder) and result.lines[0].sku == "TEA-ASSAM-250"


def test_a_shopify_amount_with_fractions_of_a_paisa_is_unreadable_and_says_where() -> None:
    with pytest.raises(StoreUnreadable, match=r"line_items.0.price"):
        read_order_payload(shopify_order(line_items=[{"sku": "A", "quantity": 1, "price": "1.005"}]))


def test_a_store_order_kept_for_later_maps_the_same_after_a_round_trip() -> None:
    order = read_order_payload(shopify_order())
    again = domain.store_order_from_json(json.loads(json.dumps(domain.store_order_json(order))))
    assert again == order


def test_a_woocommerce_order_reads_state_codes_float_prices_and_cancellation() -> None:
    order = read_woo(
        {
            "id": 727,
            "number": "727",
            "status": "cancelled",
            "date_created_gmt": "2026-11-26T04:45:00",
            "shipping_total": "0.00",
            "discount_total": "10.00",
            "total": "1088.00",
            "payment_method": "razorpay",
            "transaction_id": "pay_29QQoUBi66xm2f",
            "date_paid_gmt": "2026-11-26T04:46:00",
            "billing": {
                "first_name": "Ravi",
                "last_name": "K",
                "phone": "9812345678",
                "email": "r@example.com",
            },
            "shipping": {
                "first_name": "Ravi",
                "last_name": "K",
                "address_1": "4 Hill Road",
                "city": "Mumbai",
                "state": "MH",
                "postcode": "400050",
            },
            "line_items": [
                {"sku": "TSHIRT-M", "product_id": 93, "variation_id": 0, "quantity": 2, "price": 549.0}
            ],
        }
    )
    assert order.cancelled and order.name == "#727"
    assert order.shipping_address["state"] == "Maharashtra"
    assert order.lines[0].unit_price_paise == 54900 and order.lines[0].variant_id == "93"
    assert (
        order.payment.status is PaymentStatus.CAPTURED
        and order.payment.gateway_payment_id == "pay_29QQoUBi66xm2f"
    )
    assert order.placed_at.tzinfo is not None


# --- stock and retries --------------------------------------------------------------------------


@pytest.mark.parametrize(("available", "buffer", "shown"), [(10, 0, 10), (10, 3, 7), (2, 3, 0), (0, 0, 0)])
def test_a_store_shows_what_we_can_sell_less_its_buffer_never_below_zero(
    available: int, buffer: int, shown: int
) -> None:
    assert domain.stock_to_show(available, buffer=buffer) == shown


@pytest.mark.parametrize(
    ("available", "buffer", "share_pct", "shown"),
    [(100, 0, 30, 30), (100, 80, 30, 20), (7, 0, 50, 3), (0, 0, 50, 0), (-2, 0, 50, 0), (100, 0, 100, 100)],
)
def test_a_store_with_a_share_shows_at_most_that_share_of_what_we_can_sell(
    available: int, buffer: int, share_pct: int, shown: int
) -> None:
    assert domain.stock_to_show(available, buffer=buffer, share_pct=share_pct) == shown


def test_below_the_low_stock_mark_only_the_preferred_store_shows_the_last_units() -> None:
    website = {"buffer": 0, "hide_below": 0}  # the seller's preferred store
    marketplace = {"buffer": 1, "hide_below": 5}

    assert [domain.stock_to_show(n, **website) for n in (6, 5, 4, 1)] == [6, 5, 4, 1]
    assert [domain.stock_to_show(n, **marketplace) for n in (6, 5, 4, 1)] == [5, 4, 0, 0]


def test_a_push_waits_what_the_store_asked_for_else_doubles_up_to_the_cap() -> None:
    assert domain.next_try_in(1, retry_after_s=2.5, max_s=300) == 2.5
    assert [domain.next_try_in(n, retry_after_s=None, max_s=300) for n in (1, 2, 3, 10)] == [1, 2, 4, 300]


# --- CSV ----------------------------------------------------------------------------------------

ASHA = "IG-1,2026-11-26T10:15:00+05:30,Asha Verma,9812345678,12 MI Road,Jaipur,Rajasthan,302001,"
RAVI = "PH-7,2026-11-26T11:00:00+05:30,Ravi K,9812345679,4 Hill Road,Mumbai,Maharashtra,400050,"
HEADER = (
    "channel_order_id,placed_at,customer_name,phone,line1,city,state,pincode,sku,quantity,unit_price_paise"
)


def test_a_csv_with_two_rows_of_one_order_makes_one_order_with_two_lines() -> None:
    text = "\n".join(
        [
            HEADER + ",channel,payment_method",
            ASHA + "TEA-ASSAM-250,2,34900,manual,cod",
            ASHA + "MUG-1,1,19900,manual,cod",
            RAVI + "MUG-1,1,19900,pos,upi",
        ]
    )
    parsed = domain.parse_csv(text)
    assert parsed.problems == ()
    first, second = parsed.orders
    assert first.channel_order_id == "IG-1" and len(first.lines) == 2 and first.total_paise == 89700
    assert second.channel is Channel.POS and second.payment.method is PaymentMethod.UPI
    assert second.payment.status is PaymentStatus.CAPTURED


def test_a_csv_with_bad_rows_imports_nothing_and_names_each_row_and_column() -> None:
    text = "\n".join(
        [
            HEADER,
            ASHA.replace("302001", "3020") + "TEA,2,34900",
            "IG-2,yesterday,Ravi K,9812345679,4 Hill Road,Mumbai,Maharashtra,400050,MUG-1,two,19900",
            "IG-3," + RAVI[5:] + ",1,19900",
        ]
    )
    parsed = domain.parse_csv(text)
    assert parsed.orders == ()
    fields = [p.split(":")[0] for p in parsed.problems]
    assert "row 2.pincode" in fields
    assert "row 3.quantity" in fields and "row 3.placed_at" in fields
    assert "row 4.sku" in fields


def test_a_csv_without_a_required_column_says_which() -> None:
    parsed = domain.parse_csv("channel_order_id,sku\nX,Y\n")
    assert "row 1.pincode: column missing" in parsed.problems


def test_the_store_gets_the_couriers_own_link_else_its_public_tracking_page() -> None:
    assert (
        domain.tracking_url("delhivery", "DL123", "https://x.example/t/DL123") == "https://x.example/t/DL123"
    )
    assert domain.tracking_url("Delhivery", "DL123", None) == "https://www.delhivery.com/track/package/DL123"
    assert domain.tracking_url("pigeon-post", "P1", None) is None


def test_the_nightly_full_push_is_due_from_the_last_3_am_in_the_sellers_time_zone() -> None:
    ist = ZoneInfo("Asia/Kolkata")
    before_3 = datetime(2026, 12, 6, 2, 59, tzinfo=ist)
    after_3 = datetime(2026, 12, 6, 3, 0, tzinfo=ist)

    assert domain.last_full_push_due(before_3, at_hour=3, tz=ist) == datetime(2026, 12, 5, 3, 0, tzinfo=ist)
    assert domain.last_full_push_due(after_3, at_hour=3, tz=ist) == after_3
    # 21:45 UTC is 03:15 the next morning in India: that night's push is due.
    utc_evening = datetime(2026, 12, 5, 21, 45, tzinfo=UTC)
    that_night = datetime(2026, 12, 6, 3, 0, tzinfo=ist)
    assert domain.last_full_push_due(utc_evening, at_hour=3, tz=ist) == that_night


def test_a_parcel_the_marketplace_carries_is_ready_for_its_courier_once_packed_ours_once_picked_up() -> None:
    S = ShipmentStatus
    told = {s for s in S if domain.store_told_at(s, marketplace_carries=True)}
    assert told == {S.PACKED, S.MANIFESTED, S.PICKED_UP, S.IN_TRANSIT}
    assert {s for s in S if domain.store_told_at(s, marketplace_carries=False)} == {S.PICKED_UP, S.IN_TRANSIT}
    assert told | {S.PICKED_UP} <= domain.MAY_BE_STORE_NEWS
