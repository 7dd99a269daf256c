"""The demo catalogue (three warehouses, fifteen SKUs, uneven stock) and a realistic order generator.

`make_order` writes `channel.orders.v1` JSON exactly as an adapter would; `seed` loads the catalogue
over the routing and inventory HTTP APIs, topping stock up to its target so re-runs add nothing.
"""

from __future__ import annotations

import asyncio
import random
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import phonenumbers

from deploy.local.ports import dev_headers

IST = timezone(timedelta(hours=5, minutes=30), "IST")


@dataclass(frozen=True, slots=True)
class Warehouse:
    code: str
    name: str
    pincode: str


@dataclass(frozen=True, slots=True)
class Sku:
    sku: str
    title: str
    category: str
    price_paise: int


@dataclass(frozen=True, slots=True)
class City:
    name: str
    pincode: str
    state: str
    streets: tuple[str, ...]


WAREHOUSES = (
    Warehouse("BOM1", "Bhiwandi", "421302"),
    Warehouse("BLR1", "Bengaluru", "560058"),
    Warehouse("GGN1", "Gurugram", "122001"),
)

CATALOGUE = (
    Sku("TEA-ASSAM-250", "Assam CTC tea, 250 g", "tea", 34_900),
    Sku("TEA-DARJ-100", "Darjeeling first flush, 100 g", "tea", 59_900),
    Sku("TEA-MASALA-500", "Masala chai blend, 500 g", "tea", 44_900),
    Sku("TEA-GREEN-100", "Nilgiri green tea, 100 g", "tea", 29_900),
    Sku("KURTA-INDIGO-S", "Indigo cotton kurta, S", "apparel", 129_900),
    Sku("KURTA-INDIGO-M", "Indigo cotton kurta, M", "apparel", 129_900),
    Sku("KURTA-INDIGO-L", "Indigo cotton kurta, L", "apparel", 129_900),
    Sku("KURTA-INDIGO-XL", "Indigo cotton kurta, XL", "apparel", 134_900),
    Sku("TSHIRT-KHADI-M", "Khadi crew t-shirt, M", "apparel", 79_900),
    Sku("TSHIRT-KHADI-L", "Khadi crew t-shirt, L", "apparel", 79_900),
    Sku("CABLE-USBC-1M", "USB-C to USB-C cable, 1 m", "electronics", 39_900),
    Sku("CABLE-USBC-2M", "USB-C to USB-C cable, 2 m", "electronics", 49_900),
    Sku("CHARGER-20W", "20 W USB-C wall charger", "electronics", 99_900),
    Sku("POWERBANK-10K", "10,000 mAh power bank", "electronics", 149_900),
    Sku("EARBUDS-TWS", "True wireless earbuds", "electronics", 199_900),
)
PRICES = {s.sku: s.price_paise for s in CATALOGUE}

# Uneven on purpose: tea lives mostly in Bhiwandi, apparel in Gurugram, electronics in Bengaluru,
# and some SKUs are missing from a warehouse, so routing has to choose (and sometimes go far).
STOCK: dict[str, dict[str, int]] = {
    "TEA-ASSAM-250": {"BOM1": 600, "BLR1": 150, "GGN1": 80},
    "TEA-DARJ-100": {"BOM1": 200, "BLR1": 0, "GGN1": 120},
    "TEA-MASALA-500": {"BOM1": 400, "BLR1": 100, "GGN1": 0},
    "TEA-GREEN-100": {"BOM1": 150, "BLR1": 150, "GGN1": 40},
    "KURTA-INDIGO-S": {"BOM1": 60, "BLR1": 0, "GGN1": 200},
    "KURTA-INDIGO-M": {"BOM1": 120, "BLR1": 40, "GGN1": 300},
    "KURTA-INDIGO-L": {"BOM1": 120, "BLR1": 40, "GGN1": 300},
    "KURTA-INDIGO-XL": {"BOM1": 30, "BLR1": 0, "GGN1": 150},
    "TSHIRT-KHADI-M": {"BOM1": 100, "BLR1": 100, "GGN1": 250},
    "TSHIRT-KHADI-L": {"BOM1": 100, "BLR1": 80, "GGN1": 250},
    "CABLE-USBC-1M": {"BOM1": 150, "BLR1": 800, "GGN1": 300},
    "CABLE-USBC-2M": {"BOM1": 0, "BLR1": 400, "GGN1": 150},
    "CHARGER-20W": {"BOM1": 80, "BLR1": 400, "GGN1": 200},
    "POWERBANK-10K": {"BOM1": 0, "BLR1": 250, "GGN1": 100},
    "EARBUDS-TWS": {"BOM1": 40, "BLR1": 200, "GGN1": 0},
}

# Real city pincodes; each state is the one indian_pincode gives, and at least one demo courier
# serves each for prepaid and COD (tests check both), so every demo order can ship.
CITIES = (
    City("Jaipur", "302001", "Rajasthan", ("MI Road", "Johari Bazar", "Station Road")),
    City("Lucknow", "226001", "Uttar Pradesh", ("Hazratganj", "Ashok Marg", "Lalbagh")),
    City("Pune", "411001", "Maharashtra", ("MG Road", "East Street", "Moledina Road")),
    City("Kolkata", "700001", "West Bengal", ("BBD Bagh", "Dalhousie Square", "Lyons Range")),
    City("Chennai", "600001", "Tamil Nadu", ("NSC Bose Road", "Armenian Street", "Broadway")),
    City("Hyderabad", "500001", "Telangana", ("Abids Road", "Nampally Station Road")),
    City("Ahmedabad", "380001", "Gujarat", ("Relief Road", "Gandhi Road", "Lal Darwaja")),
    City("Guwahati", "781001", "Assam", ("GS Road", "Pan Bazar", "MG Road")),
    City("Kochi", "682001", "Kerala", ("Bazaar Road", "Princess Street", "Calvetty Road")),
    City("New Delhi", "110001", "Delhi", ("Connaught Place", "Janpath", "Barakhamba Road")),
    City("Mumbai", "400001", "Maharashtra", ("Kala Ghoda", "Nariman Point", "Fort")),
    City("Bengaluru", "560001", "Karnataka", ("MG Road", "Brigade Road", "Residency Road")),
    City("Noida", "201301", "Uttar Pradesh", ("Sector 18", "Atta Market", "Sector 62")),
    City("New Delhi", "110020", "Delhi", ("Kalkaji Main Road", "Nehru Place", "Okhla Phase 1")),
    City("Mumbai", "400070", "Maharashtra", ("LBS Marg", "Kurla West", "Kamani Junction")),
    City("Dehradun", "248001", "Uttarakhand", ("Rajpur Road", "Paltan Bazaar", "EC Road")),
)
CITY_BY_PINCODE = {c.pincode: c for c in CITIES}

FIRST_NAMES = (
    "Asha", "Rohan", "Priya", "Arjun", "Meera", "Vikram", "Ananya", "Kabir", "Sneha", "Rahul",
    "Divya", "Aditya", "Kavya", "Siddharth", "Pooja", "Imran", "Fatima", "Harpreet", "Gurpreet",
    "Lakshmi", "Karthik", "Deepika", "Suresh", "Nandini", "Arnav", "Ishita", "Manoj", "Shreya",
    "Joseph", "Mary", "Biswajit", "Tanvi", "Abhishek", "Ritu", "Venkatesh", "Zoya",
)  # fmt: skip
LAST_NAMES = (
    "Verma", "Sharma", "Iyer", "Reddy", "Nair", "Banerjee", "Chatterjee", "Patel", "Shah",
    "Singh", "Gill", "Khan", "Qureshi", "Das", "Bora", "Menon", "Pillai", "Rao", "Kulkarni",
    "Deshpande", "Mishra", "Yadav", "Gupta", "Agarwal", "D'Souza", "Fernandes", "Mohanty", "Joshi",
)  # fmt: skip

# (channel, weight, id style); weights are roughly an Indian D2C brand's mix.
CHANNELS = (
    ("website", 25),
    ("shopify", 20),
    ("amazon", 20),
    ("flipkart", 15),
    ("whatsapp", 12),
    ("pos", 8),
)
PREPAID_METHODS = (("upi", 60), ("card", 25), ("wallet", 8), ("netbanking", 7))
SPEEDS = (("standard", 80), ("express", 17), ("same_day", 3))
COD_SHARE = 0.25
FREE_SHIPPING_FROM_PAISE = 49_900
SHIPPING_FEE_PAISE = 4_900


_MOBILE = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(string.digits, k=n))


def channel_order_id(channel: str, i: int, rng: random.Random) -> str:
    """An id in the style the channel uses; random digits keep separate demo runs apart."""
    match channel:
        case "amazon":
            return f"40{rng.randint(2, 8)}-{_digits(rng, 7)}-{_digits(rng, 7)}"
        case "flipkart":
            return f"OD{_digits(rng, 18)}"
        case "shopify":
            return f"SHP-{_digits(rng, 6)}{i:05d}"
        case "whatsapp":
            return f"WA-{_digits(rng, 6)}{i:05d}"
        case "pos":
            return f"POS-BOM1-{_digits(rng, 6)}{i:05d}"
        case _:
            return f"WEB-{_digits(rng, 6)}{i:05d}"


def mobile_number(rng: random.Random) -> str:
    """A valid Indian mobile number, in one of the formats channels really send."""
    while True:
        number = f"{rng.choice('6789')}{_digits(rng, 9)}"
        parsed = phonenumbers.parse(number, "IN")
        # Not every 6-9 prefix is allocated: draw again until the numbering plan says mobile.
        if phonenumbers.number_type(parsed) in _MOBILE:
            break
    style = rng.random()
    if style < 0.7:
        return f"+91{number}"
    if style < 0.85:
        return number
    if style < 0.95:
        return f"+91 {number[:5]} {number[5:]}"
    return f"0{number}"


def _lines(rng: random.Random) -> list[dict[str, Any]]:
    """1–3 distinct SKUs, usually from one category (a shopper's basket), sometimes mixed."""
    category = rng.choice(("tea", "apparel", "electronics"))
    pool = [s for s in CATALOGUE if s.category == category]
    if rng.random() < 0.15:
        pool = list(CATALOGUE)
    n = min(len(pool), rng.choices((1, 2, 3), weights=(55, 30, 15))[0])
    picked = rng.sample(pool, n)
    return [
        {
            "sku": s.sku,
            "quantity": rng.choices((1, 2, 3), weights=(75, 20, 5))[0],
            "unit_price_paise": s.price_paise,
        }
        for s in picked
    ]


def _payment(rng: random.Random, channel: str, total: int, *, prepaid_only: bool) -> dict[str, Any]:
    cod = not prepaid_only and channel != "pos" and rng.random() < COD_SHARE
    if cod:
        return {
            "method": "cod",
            "status": "pending",
            "gateway": None,
            "gateway_payment_id": None,
            "amount_paise": total,
        }
    gateway = {"amazon": "amazon_pay", "flipkart": "flipkart"}.get(channel, "razorpay")
    payment_id = "pay_" + "".join(rng.choices(string.ascii_letters + string.digits, k=14))
    return {
        "method": _weighted(rng, PREPAID_METHODS),
        "status": "captured",
        "gateway": gateway,
        "gateway_payment_id": payment_id,
        "amount_paise": total,
    }


def make_order(
    i: int,
    rng: random.Random,
    *,
    channel_order_id_prefix: str | None = None,
    prepaid_only: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The i-th demo order as `channel.orders.v1` JSON (money in paise, time in IST)."""
    channel = _weighted(rng, CHANNELS)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city = rng.choice(CITIES)
    lines = _lines(rng)
    subtotal = sum(line["quantity"] * line["unit_price_paise"] for line in lines)
    marketplace = channel in ("amazon", "flipkart")
    fee = 0 if marketplace or subtotal >= FREE_SHIPPING_FROM_PAISE else SHIPPING_FEE_PAISE
    discount = subtotal // 10 if not marketplace and rng.random() < 0.2 else 0
    total = subtotal + fee - discount
    placed_at = (now or datetime.now(IST)).astimezone(IST).replace(microsecond=0)
    coid = (
        f"{channel_order_id_prefix}{i}"
        if channel_order_id_prefix is not None
        else channel_order_id(channel, i, rng)
    )
    email = (
        None
        if channel in ("pos", "whatsapp") and rng.random() < 0.6
        else f"{first}.{last}{rng.randint(1, 99)}".lower().replace("'", "") + "@example.com"
    )
    return {
        "channel": channel,
        "channel_order_id": coid,
        "placed_at": placed_at.isoformat(),
        "customer": {
            "name": f"{first} {last}",
            "phone": mobile_number(rng),
            "email": email,
            "language": "hi" if rng.random() < 0.15 else "en",
        },
        "shipping_address": {
            "line1": f"{rng.randint(1, 250)} {rng.choice(city.streets)}",
            "line2": rng.choice((None, None, f"Flat {rng.randint(1, 20)}0{rng.randint(1, 9)}")),
            "landmark": rng.choice((None, None, None, "Near the post office", "Opp. SBI branch")),
            "city": city.name,
            "state": city.state,
            "pincode": city.pincode,
        },
        "lines": lines,
        "shipping_fee_paise": fee,
        "discount_paise": discount,
        "total_paise": total,
        "payment": _payment(rng, channel, total, prepaid_only=prepaid_only),
        "delivery_speed": _weighted(rng, SPEEDS),
    }


def demand(orders: list[dict[str, Any]]) -> dict[str, int]:
    """Units per SKU that a batch of orders asks for."""
    units: dict[str, int] = {}
    for order in orders:
        for line in order["lines"]:
            units[line["sku"]] = units.get(line["sku"], 0) + line["quantity"]
    return units


async def available_stock(client: httpx.AsyncClient, sku: str) -> dict[str, int]:
    """On-hand minus reserved per warehouse, as inventory reports it (empty if never stocked)."""
    resp = await client.get(f"/stock/{sku}")
    if resp.status_code == 404:
        return {}
    resp.raise_for_status()
    return {w["warehouse_code"]: int(w["available"]) for w in resp.json()["warehouses"]}


async def seed(
    base_urls: Mapping[str, str], *, stock: Mapping[str, Mapping[str, int]] | None = None
) -> dict[str, int]:
    """Load warehouses into routing and top each SKU × warehouse up to its target availability.

    Idempotent: stock already there counts, so a second run receives nothing. Returns units received
    per SKU. ``base_urls`` maps service name → URL (routing and inventory are used).
    """
    targets = stock if stock is not None else STOCK
    async with (
        httpx.AsyncClient(base_url=base_urls["routing"], timeout=10, headers=dev_headers()) as routing,
        httpx.AsyncClient(base_url=base_urls["inventory"], timeout=10, headers=dev_headers()) as inventory,
    ):
        for wh in WAREHOUSES:
            resp = await routing.put(
                f"/warehouses/{wh.code}",
                json={"code": wh.code, "name": wh.name, "pincode": wh.pincode},
            )
            resp.raise_for_status()
        received: dict[str, int] = {}
        for sku, per_warehouse in targets.items():
            have = await available_stock(inventory, sku)
            for code, target in per_warehouse.items():
                missing = target - have.get(code, 0)
                if missing <= 0:
                    continue
                resp = await inventory.post(
                    "/stock/receipts",
                    json={
                        "sku": sku,
                        "warehouse_code": code,
                        "quantity": missing,
                        "reference": "demo-seed",
                    },
                )
                resp.raise_for_status()
                received[sku] = received.get(sku, 0) + missing
    return received


async def wait_until_routable(
    database_url: str, targets: Mapping[str, Mapping[str, int]], *, timeout: float = 30
) -> bool:
    """Wait until routing's stock view (fed by inventory.stock_changed) shows the seeded stock.

    Without this, the first orders race the stock events and are planned against an empty view.
    """
    conn = await asyncpg.connect(database_url)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        wanted = {(s, w): n for s, per in targets.items() for w, n in per.items() if n > 0}
        while True:
            rows = await conn.fetch(
                "SELECT sku, warehouse_code, available FROM stock_view WHERE sku = ANY($1::text[])",
                sorted(targets),
            )
            seen = {(r["sku"], r["warehouse_code"]): r["available"] for r in rows}
            if all(seen.get(k, 0) >= n for k, n in wanted.items()):
                return True
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
