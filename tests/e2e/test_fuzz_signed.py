"""Fuzz what the OpenAPI fuzzer cannot reach: the store webhooks, signed as Shopify and WooCommerce sign
them with the demo stores' development secrets, and the console's pages and forms, signed in.

Webhooks: malformed bytes, arbitrary JSON and plausible orders with one field broken are each signed
and posted; none may get a 5xx, each is accepted and then recorded with an outcome (sent, or held
naming why), nothing is half-written, and a replayed delivery is applied once. Console: the queue's
query parameters and every form, with the session's CSRF token; none may get a 5xx, and a refusal
is a 4xx or a page naming the problem. DABBA_FUZZ_EXAMPLES bounds the examples per strategy."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import os
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from services.channels.app import DEMO_ACCOUNTS
from tests.conftest import Tap, body_has
from tests.e2e.test_fuzz import HALF_WRITTEN, _restore, _snapshot
from tests.helpers import db_fetch, url, wait_until

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("DABBA_FUZZ_EXAMPLES") or 20)
# A deeper run by hand (DABBA_FUZZ_EXAMPLES=100) needs longer than the suite's 300 s per test.
DEEP_ENOUGH = pytest.mark.timeout(max(300, 30 * EXAMPLES))
FAST = settings(
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
SECRET = {name: (platform, secret) for name, platform, secret in DEMO_ACCOUNTS}
ACCOUNT = {platform: name for name, platform, _ in DEMO_ACCOUNTS}
CHANNEL_SKU = "FUZZ-ASSAM"
RUN = uuid.uuid4().hex[:6].upper()
SKU = f"FUZZ-TEA-{RUN}"
OUTCOMES = ("sent", "unmapped: ", "unreadable: ", "ignored: ", "duplicate: ", "cancelled on the store")


# --- signing as the stores do -----------------------------------------------------------------------


def signed(platform: str, body: bytes, *, delivery_id: str, topic: str) -> dict[str, str]:
    """The headers a store sends: base64 HMAC-SHA256 of the raw body under the webhook's secret."""
    account = ACCOUNT[platform]
    digest = hmac.new(SECRET[account][1].encode(), body, hashlib.sha256).digest()
    signature = base64.b64encode(digest).decode()
    if platform == "shopify":
        return {
            "X-Shopify-Hmac-Sha256": signature,
            "X-Shopify-Webhook-Id": delivery_id,
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": f"{account}.myshopify.com",
            "Content-Type": "application/json",
        }
    return {
        "X-WC-Webhook-Signature": signature,
        "X-WC-Webhook-Delivery-ID": delivery_id,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": "order",
        "Content-Type": "application/json",
    }


# --- what the stores send -------------------------------------------------------------------------

_ids = iter(range(1, 10**9))


def store_order_id() -> int:
    """A store order id no other example or run uses (Shopify's are 13 digits, Woo's smaller)."""
    return int(uuid.uuid4().int % 10**9) * 1000 + next(_ids) % 1000


def shopify_order(order_id: int) -> dict[str, Any]:
    """An orders/create payload of the shape the Shopify adapter reads, valid as it stands."""
    address = {
        "first_name": "Asha",
        "last_name": "Rao",
        "address1": "12 MG Road",
        "address2": "",
        "city": "Bengaluru",
        "province": "Karnataka",
        "province_code": "KA",
        "zip": "560001",
        "phone": "+919812345678",
    }
    money = {"amount": "40.00", "currency_code": "INR"}
    return {
        "id": order_id,
        "name": f"#{order_id % 100000}",
        "email": "asha@example.com",
        "created_at": "2026-03-01T10:00:00+05:30",
        "total_price": "389.00",
        "total_discounts": "0.00",
        "total_shipping_price_set": {"shop_money": money},
        "shipping_lines": [{"price": "40.00"}],
        "financial_status": "pending",
        "payment_gateway_names": ["Cash on Delivery (COD)"],
        "checkout_token": "abc123",
        "cancelled_at": None,
        "customer": {"first_name": "Asha", "last_name": "Rao", "phone": "+919812345678"},
        "shipping_address": address,
        "billing_address": dict(address),
        "line_items": [
            {"sku": CHANNEL_SKU, "variant_id": 4401, "title": "Assam", "quantity": 1, "price": "349.00"}
        ],
    }


def woo_order(order_id: int) -> dict[str, Any]:
    """An order.created payload of the shape the WooCommerce adapter reads, valid as it stands."""
    address = {
        "first_name": "Ravi",
        "last_name": "Kumar",
        "address_1": "4 Park Street",
        "address_2": "",
        "city": "Kolkata",
        "state": "WB",
        "postcode": "700016",
        "country": "IN",
    }
    return {
        "id": order_id,
        "number": str(order_id),
        "status": "processing",
        "date_created_gmt": "2026-03-01T04:30:00",
        "total": "389.00",
        "shipping_total": "40.00",
        "discount_total": "0.00",
        "billing": {**address, "email": "ravi@example.com", "phone": "+919812345679"},
        "shipping": {**address, "phone": "+919812345679"},
        "payment_method": "cod",
        "transaction_id": "",
        "date_paid": None,
        "line_items": [
            {
                "sku": CHANNEL_SKU,
                "product_id": 77,
                "variation_id": 0,
                "name": "Assam",
                "quantity": 1,
                "price": 349.0,
            }
        ],
    }


PAYLOAD = {"shopify": shopify_order, "woocommerce": woo_order}
ORDER_TOPIC = {"shopify": "orders/create", "woocommerce": "order.created"}
TOPICS = {
    "shopify": ["orders/create", "orders/updated", "orders/cancelled", "products/update", "x" * 200],
    "woocommerce": ["order.created", "order.updated", "order.deleted", "product.updated"],
}
# Where a plausible payload gets broken, per platform (a dotted path into the payload).
FIELDS = {
    "shopify": [
        "id",
        "name",
        "email",
        "created_at",
        "total_price",
        "total_discounts",
        "total_shipping_price_set",
        "total_shipping_price_set.shop_money",
        "total_shipping_price_set.shop_money.amount",
        "shipping_lines",
        "shipping_lines.0",
        "shipping_lines.0.price",
        "financial_status",
        "payment_gateway_names",
        "checkout_token",
        "cancelled_at",
        "customer",
        "customer.first_name",
        "customer.phone",
        "shipping_address",
        "shipping_address.first_name",
        "shipping_address.address1",
        "shipping_address.city",
        "shipping_address.province",
        "shipping_address.province_code",
        "shipping_address.zip",
        "shipping_address.phone",
        "billing_address",
        "line_items",
        "line_items.0",
        "line_items.0.sku",
        "line_items.0.variant_id",
        "line_items.0.title",
        "line_items.0.quantity",
        "line_items.0.price",
    ],
    "woocommerce": [
        "id",
        "number",
        "status",
        "date_created_gmt",
        "total",
        "shipping_total",
        "discount_total",
        "billing",
        "billing.email",
        "billing.phone",
        "billing.first_name",
        "shipping",
        "shipping.address_1",
        "shipping.city",
        "shipping.state",
        "shipping.postcode",
        "shipping.phone",
        "payment_method",
        "transaction_id",
        "date_paid",
        "line_items",
        "line_items.0",
        "line_items.0.sku",
        "line_items.0.product_id",
        "line_items.0.variation_id",
        "line_items.0.name",
        "line_items.0.quantity",
        "line_items.0.price",
    ],
}
MISSING = object()
weird = st.one_of(
    st.just(MISSING),
    st.none(),
    st.sampled_from(["", " ", "0", "-1", "abc", "1e400", "NaN", "Infinity", "-0.001", "12.345", "999999"]),
    st.sampled_from(["\x00", "a\x00b", "\x07bell", "\u202eevil", "\ud800", "नमस्ते", "🫖" * 3, "x" * 5000]),
    st.sampled_from(["56000", "5600011", "000000", "ABCDEF", "56 00 01", "-560001"]),  # bad pincodes
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 2**31, 2**63, 10**20, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.just([]),
    st.just({}),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.text(max_size=40),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=15,
)


def put_at(payload: dict[str, Any], path: str, value: Any) -> None:
    """Set (or with MISSING, remove) one field of a payload; a path through a broken value is skipped."""
    *parents, last = path.split(".")
    node: Any = payload
    for part in parents:
        if isinstance(node, list):
            # An earlier broken field emptied this list (CI drew line_items = [] first), or made a
            # list of what the path expects to be an object (CI drew line_items.0 = [] first).
            if not part.isdigit() or int(part) >= len(node):
                return
            node = node[int(part)]
        else:
            node = node.get(part)
        if not isinstance(node, dict | list):
            return
    if isinstance(node, list) and (not last.isdigit() or int(last) >= len(node)):
        return
    key: Any = int(last) if isinstance(node, list) else last
    if value is MISSING:
        node.pop(key) if isinstance(node, list) else node.pop(key, None)
    else:
        node[key] = value


@st.composite
def plausible(draw: st.DrawFn, platform: str) -> tuple[bytes, str, int | None]:
    """A plausible order with one to three fields broken; (body, topic, store order id)."""
    order_id = store_order_id()
    payload = PAYLOAD[platform](order_id)
    lines = copy.deepcopy(payload["line_items"])  # a broken field below may replace the lines
    for path, value in draw(
        st.lists(st.tuples(st.sampled_from(FIELDS[platform]), weird), min_size=0, max_size=3)
    ):
        put_at(payload, path, value if value is MISSING else copy.deepcopy(value))
    if draw(st.booleans()):
        payload["line_items"] = draw(st.sampled_from([[], [lines] * 2, lines * 2, lines * 60]))
    body = json.dumps(payload, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    topic = draw(st.sampled_from([ORDER_TOPIC[platform], ORDER_TOPIC[platform], *TOPICS[platform]]))
    kept_id = payload.get("id")  # the broken field may be the id itself
    return body, topic, kept_id if isinstance(kept_id, int) else None


@st.composite
def anything(draw: st.DrawFn, platform: str) -> tuple[bytes, str, int | None]:
    """Bytes that are not JSON, or JSON that is not an order; (body, topic, None)."""
    if draw(st.booleans()):
        body = draw(st.binary(max_size=400))
    else:
        body = json.dumps(draw(json_values)).encode("utf-8", "surrogatepass")
    return body, draw(st.sampled_from(TOPICS[platform])), None


def examples(strategy: st.SearchStrategy[Any]) -> list[Any]:
    """EXAMPLES values of a strategy, drawn by hypothesis (generated first, posted after)."""
    drawn: list[Any] = []

    @settings(FAST, max_examples=EXAMPLES)
    @given(strategy)
    def draw(value: Any) -> None:
        drawn.append(value)

    draw()
    return drawn


# --- the findings -------------------------------------------------------------------------------


@dataclass
class Findings:
    """Calls made and every failed check, gathered so that one run shows them all."""

    calls: Counter[str] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)

    def fail(self, key: str, detail: str) -> None:
        self.failures.setdefault(key, f"{key} — {detail}")

    def check_refusal(self, what: str, response: httpx.Response) -> None:
        """No 5xx; a 4xx answers JSON naming a field and a problem."""
        self.calls[what] += 1
        if response.status_code >= 500:
            self.fail(f"{what}: server error", f"{response.status_code}: {response.text[:300]}")
        elif response.status_code >= 400:
            try:
                problems = response.json()["problems"]
                assert problems and all(p["field"] and p["problem"] for p in problems)
            except (ValueError, KeyError, TypeError, AssertionError):
                self.fail(
                    f"{what}: refusal names no problem", f"{response.status_code}: {response.text[:300]}"
                )

    def report(self) -> str:
        return "\n".join(list(self.failures.values())[:20])


# --- store webhooks -----------------------------------------------------------------------------


@dataclass
class Posted:
    platform: str
    delivery_id: str
    topic: str
    body: bytes
    store_order_id: int | None
    status: int


@asynccontextmanager
async def fuzz_sku_mapped() -> AsyncIterator[None]:
    """The fuzz's channel SKU mapped on both demo stores; the channels reference data put back after."""
    await _snapshot("channels")
    try:
        await _map_fuzz_sku()
        yield
    finally:
        await _restore("channels")


async def _map_fuzz_sku() -> None:
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("ops")) as http:
        for name in ACCOUNT.values():
            r = await http.put(
                url("channels", f"/accounts/{name}/mappings"), json=[{"channel_sku": CHANNEL_SKU, "sku": SKU}]
            )
            assert r.status_code == 200, r.text


async def _post_all(cases: list[tuple[str, bytes, str, int | None]], findings: Findings) -> list[Posted]:
    posted = []
    async with httpx.AsyncClient(timeout=30) as http:
        for platform, body, topic, order_id in cases:
            delivery_id = f"fuzz-{RUN}-{uuid.uuid4().hex[:12]}"
            r = await http.post(
                url("channels", f"/webhooks/{platform}/{ACCOUNT[platform]}"),
                content=body,
                headers=signed(platform, body, delivery_id=delivery_id, topic=topic),
            )
            findings.check_refusal(f"POST /webhooks/{platform}", r)
            if r.status_code == 200 and r.json() != {
                "accepted": True,
                "duplicate": False,
                "delivery_id": delivery_id,
            }:
                findings.fail(f"{platform}: acceptance", f"{delivery_id} answered {r.text[:200]}")
            posted.append(Posted(platform, delivery_id, topic, body, order_id, r.status_code))
    return posted


async def _receipts(posted: list[Posted]) -> dict[str, Any]:
    rows = await db_fetch(
        "channels",
        "SELECT delivery_id, processed_at, outcome FROM webhook_receipts WHERE delivery_id = ANY($1)",
        [p.delivery_id for p in posted],
    )
    return {r["delivery_id"]: r for r in rows}


async def _check_webhooks(posted: list[Posted], findings: Findings) -> None:
    """Every accepted delivery gets an outcome; each held order names why; nothing half-written."""
    accepted = [p for p in posted if p.status == 200]

    async def all_processed() -> dict[str, Any] | None:
        found = await _receipts(accepted)
        return found if all(r["processed_at"] is not None for r in found.values()) else None

    try:
        receipts = await wait_until(all_processed, what="every accepted webhook to be processed", timeout=45)
    except AssertionError:
        receipts = await _receipts(accepted)
    for p in accepted:
        receipt = receipts.get(p.delivery_id)
        if receipt is None:
            findings.fail(f"{p.platform}: accepted but not kept", p.delivery_id)
        elif receipt["processed_at"] is None:
            findings.fail(
                f"{p.platform}: accepted but never processed (poison receipt, held with no reason)",
                f"{p.delivery_id} topic {p.topic!r} body {p.body[:300]!r}",
            )
        elif not (receipt["outcome"] or "").startswith(OUTCOMES):
            findings.fail(
                f"{p.platform}: failed or unexplained outcome", f"{p.delivery_id}: {receipt['outcome']!r}"
            )
    ids = [str(p.store_order_id) for p in accepted if p.store_order_id is not None]
    rows = await db_fetch(
        "channels",
        """SELECT account, store_order_id, channel_order_id, status, problems, store_order
             FROM channel_orders WHERE account = ANY($1) AND store_order_id = ANY($2)""",
        list(ACCOUNT.values()),
        ids,
    )
    for row in rows:
        problems = json.loads(row["problems"])
        if row["status"] == "sent" and problems:
            findings.fail("channel order sent with problems", f"{row['channel_order_id']}: {problems}")
        if row["status"] != "sent" and not all(p.get("field") and p.get("problem") for p in problems or [{}]):
            findings.fail("channel order held naming nothing", f"{row['channel_order_id']}: {row['status']}")
        if not json.loads(row["store_order"])["lines"]:
            findings.fail("channel order kept with no lines", row["channel_order_id"])
    by_order = {(r["account"], r["store_order_id"]): r for r in rows}
    for p in accepted:
        outcome = (receipts.get(p.delivery_id) or {}).get("outcome") or ""
        kept = by_order.get((ACCOUNT[p.platform], str(p.store_order_id)))
        if outcome == "sent" and (kept is None or kept["status"] != "sent"):
            findings.fail("receipt sent without its channel order", p.delivery_id)
        if outcome.startswith("unmapped: ") and (kept is None or kept["status"] != "unmapped"):
            findings.fail("receipt unmapped without its held order", p.delivery_id)
        if outcome.startswith("unreadable: ") and kept is not None and kept["status"] != "unreadable":
            findings.fail("unreadable receipt with an order not held", f"{p.delivery_id}: {kept['status']}")
    # Each channel order belongs to a processed receipt of ours, and each sent one is placed once.
    mine = {(ACCOUNT[p.platform], str(p.store_order_id)) for p in accepted if p.store_order_id is not None}
    orphans = [key for key in by_order if key not in mine]
    if orphans:
        findings.fail("channel order without its receipt", str(orphans[:5]))
    sent = [r["channel_order_id"] for r in rows if r["status"] == "sent"]

    async def all_placed() -> list[Any] | None:
        found = await db_fetch(
            "orders", "SELECT channel_order_id FROM orders WHERE channel_order_id = ANY($1)", sent
        )
        return found if len(found) >= len(sent) else None

    try:
        placed = await wait_until(all_placed, what="orders to place every sent channel order", timeout=45)
    except AssertionError:
        placed = await db_fetch(
            "orders", "SELECT channel_order_id FROM orders WHERE channel_order_id = ANY($1)", sent
        )
    counted = Counter(r["channel_order_id"] for r in placed)
    for coid in sent:
        if counted[coid] != 1:
            findings.fail("sent channel order placed other than once", f"{coid}: {counted[coid]} orders")
    half = await db_fetch("orders", HALF_WRITTEN["orders"])
    if half:
        findings.fail("half-written in orders", str([tuple(r) for r in half][:10]))


@DEEP_ENOUGH
async def test_signed_store_webhooks_fuzzed_find_no_server_error_and_nothing_half_written(
    stack: Stack, tap: Tap
) -> None:
    findings = Findings()
    async with fuzz_sku_mapped():
        cases: list[tuple[str, bytes, str, int | None]] = []
        for platform in ACCOUNT:
            for strategy in (plausible(platform), anything(platform)):
                cases += [(platform, *drawn) for drawn in examples(strategy)]
        posted = await _post_all(cases, findings)
        await _check_webhooks(posted, findings)
    sent = sum(1 for p in posted if p.status == 200)
    print(f"\nfuzz signed webhooks: {len(posted)} calls, {sent} accepted ({EXAMPLES} examples per strategy)")
    assert not findings.failures, findings.report()
    assert sent > 0 and sum(findings.calls.values()) == len(cases)


async def test_a_replayed_signed_webhook_is_applied_once(stack: Stack, tap: Tap) -> None:
    async with fuzz_sku_mapped():
        for platform, account in ACCOUNT.items():
            order_id = store_order_id()
            body = json.dumps(PAYLOAD[platform](order_id)).encode()
            async with httpx.AsyncClient(timeout=10) as http:
                hook = url("channels", f"/webhooks/{platform}/{account}")
                first = f"fuzz-{RUN}-{uuid.uuid4().hex[:12]}"
                again = f"fuzz-{RUN}-{uuid.uuid4().hex[:12]}"  # the store sending the same order anew
                answers = [
                    await http.post(
                        hook, content=body, headers=signed(platform, body, delivery_id=d, topic=t)
                    )
                    for d, t in (
                        (first, ORDER_TOPIC[platform]),
                        (first, ORDER_TOPIC[platform]),
                        (again, ORDER_TOPIC[platform]),
                    )
                ]
            assert [r.status_code for r in answers] == [200, 200, 200]
            assert [r.json()["duplicate"] for r in answers] == [False, True, False]
            coid = f"{account}-{order_id}"
            await tap.wait_for("orders.placed.v1", body_has(channel_order_id=coid), timeout=60)

            async def both_processed(
                a: str = account, ids: tuple[str, str] = (first, again)
            ) -> list[str] | None:
                rows = await db_fetch(
                    "channels",
                    "SELECT outcome FROM webhook_receipts WHERE account = $1 AND delivery_id = ANY($2)",
                    a,
                    list(ids),
                )
                outcomes = sorted(r["outcome"] or "" for r in rows)
                return outcomes if len(outcomes) == 2 and all(outcomes) else None

            outcomes = await wait_until(both_processed, what="both deliveries to be processed")
            assert outcomes == ["duplicate: order already received", "sent"]
            assert len(tap.find("channel.orders.v1", body_has(channel_order_id=coid))) == 1
            assert (
                len(await db_fetch("orders", "SELECT 1 FROM orders WHERE channel_order_id = $1", coid)) == 1
            )


# --- the console --------------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def sign_in(http: httpx.Client) -> str:
    """Sign in as asha (ops) through the login form; the session's CSRF token."""
    token = CSRF.search(http.get("/login").text)
    assert token is not None
    r = http.post("/login", data={"username": "asha", "password": "dev-asha-local", "csrf_token": token[1]})
    assert r.status_code == 303 and r.headers["location"] == "/orders", r.text[:300]
    page = http.get("/orders")
    csrf = CSRF.search(page.text)
    assert page.status_code == 200 and csrf is not None
    return csrf[1]


text = st.text(max_size=30) | st.sampled_from(["", "\x00", "ORD-1", "9999-12-31", "0001-01-01", "x" * 3000])
QUERY = {
    "/orders": [
        "tab",
        "status",
        "channel",
        "payment_method",
        "warehouse",
        "courier",
        "from",
        "to",
        "search",
        "after",
    ],
    "/orders/rows": ["tab", "status", "from", "to", "search", "after"],
    "/analytics": ["days"],
    "/pack": ["shipment_id", "ok", "error"],
    "/login": ["error"],
}
cursor = st.binary(max_size=40).map(lambda b: base64.urlsafe_b64encode(b).decode()) | st.sampled_from(
    [base64.urlsafe_b64encode(s.encode()).decode() for s in ("9999-12-31T00:00:00|x", "2026-01-01|\x00", "|")]
)
query_value = text | st.integers(min_value=-(10**20), max_value=10**20).map(str) | cursor
ident = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=20) | st.sampled_from(
    ["ORD-X", "1"]
)
FORMS: list[tuple[str, Callable[[], st.SearchStrategy[dict[str, Any]]]]] = [
    ("/orders/{id}/actions/{action}", lambda: st.fixed_dictionaries({"reason": text})),
    ("/shipments/{id}/ndr", lambda: st.fixed_dictionaries({"order_id": text, "action": text})),
    ("/returns/{id}/receive", lambda: st.fixed_dictionaries({}, optional={"order_id": text})),
    (
        "/returns/{id}/qc",
        lambda: st.fixed_dictionaries({"order_id": text, "sku": text, "passed.": text, "failed.": text}),
    ),
    ("/pack/{id}/scan", lambda: st.fixed_dictionaries({"barcode": text})),
    ("/pack/{id}/close", lambda: st.fixed_dictionaries({"weight_grams": query_value})),
]


def _check_page(
    findings: Findings, what: str, send: Callable[[], httpx.Response], http: httpx.Client
) -> httpx.Response | None:
    """Make one call: no 5xx, a redirect stays on the console and leads to a page that renders."""
    findings.calls[what] += 1
    try:
        r = send()
    except httpx.TransportError as exc:  # the server died on it mid-answer: a server error too
        findings.fail(f"{what}: connection broken", f"{type(exc).__name__}: {exc}")
        return None
    if r.status_code >= 500:
        findings.fail(f"{what}: server error", f"{r.request.url} → {r.status_code}: {r.text[:300]}")
    elif r.status_code == 303:
        location = r.headers.get("location", "")
        if not location.startswith("/"):
            findings.fail(f"{what}: redirect off the console", location)
            return r
        said = parse_qs(urlsplit(location).query)
        if "error" in said and not said["error"][0].strip():
            findings.fail(f"{what}: error names nothing", location)
        followed = http.get(location)
        if followed.status_code >= 500:
            findings.fail(f"{what}: the page it leads to fails", f"{location} → {followed.status_code}")
    elif r.status_code >= 400 and "json" in r.headers.get("content-type", ""):
        findings.check_refusal(what, r)
        findings.calls[what] -= 1
    return r


@DEEP_ENOUGH
def test_console_pages_and_forms_fuzzed_signed_in_find_no_server_error(stack: Stack) -> None:
    findings = Findings()
    with httpx.Client(base_url=url("console", ""), timeout=30, follow_redirects=False) as http:
        csrf = sign_in(http)
        for path, names in QUERY.items():
            for params in examples(st.dictionaries(st.sampled_from(names), query_value, max_size=4)):
                _check_page(findings, f"GET {path}", partial(http.get, path, params=params), http)
        for order_id in examples(ident):
            _check_page(
                findings, "GET /orders/{id}", partial(http.get, f"/orders/{quote(order_id, safe='')}"), http
            )
        actions = st.sampled_from(["hold", "release", "cancel", "cod_confirm", "cod_decline", "nope", "\x00"])
        for template, fields in FORMS:
            for target, action, data, token in examples(
                st.tuples(ident, actions, fields(), st.sampled_from([csrf, csrf, csrf, "", "forged"]))
            ):
                path = template.format(id=quote(target, safe=""), action=quote(action, safe=""))
                form = {**data, "csrf_token": token}
                r = _check_page(findings, f"POST {template}", partial(http.post, path, data=form), http)
                if r is not None and token != csrf and r.status_code < 400:
                    findings.fail(f"POST {template}: accepted without the CSRF token", f"{r.status_code}")
        with http.stream("GET", "/events") as live:
            assert live.status_code == 200
            assert next(live.iter_lines()).startswith("event: hello")
        assert http.get("/orders").status_code == 200  # still signed in: the fuzz did not sign out
    total = sum(findings.calls.values())
    print(
        f"\nfuzz console: {total} calls over {len(findings.calls)} pages and forms ({EXAMPLES} examples each)"
    )
    assert not findings.failures, findings.report()
    assert total >= EXAMPLES * (len(QUERY) + len(FORMS))
