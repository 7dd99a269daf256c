"""What the store adapters share: money strings to paise, Indian state codes to names, and how an
HTTP answer from a store becomes a StoreError (retryable on 429/5xx, honouring Retry-After)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from chassis.text import parsed_json_problems
from services.channels.stores.interface import StoreError, StoreOrder, StoreUnreadable

# ISO 3166-2:IN subdivision codes as stores send them (WooCommerce's list, Shopify's province_code),
# with the older codes still seen (OR, UK, CT, TS).
STATES = {
    "AN": "Andaman and Nicobar Islands",
    "AP": "Andhra Pradesh",
    "AR": "Arunachal Pradesh",
    "AS": "Assam",
    "BR": "Bihar",
    "CH": "Chandigarh",
    "CG": "Chhattisgarh",
    "CT": "Chhattisgarh",
    "DH": "Dadra and Nagar Haveli and Daman and Diu",
    "DN": "Dadra and Nagar Haveli",
    "DD": "Daman and Diu",
    "DL": "Delhi",
    "GA": "Goa",
    "GJ": "Gujarat",
    "HR": "Haryana",
    "HP": "Himachal Pradesh",
    "JK": "Jammu and Kashmir",
    "JH": "Jharkhand",
    "KA": "Karnataka",
    "KL": "Kerala",
    "LA": "Ladakh",
    "LD": "Lakshadweep",
    "MP": "Madhya Pradesh",
    "MH": "Maharashtra",
    "MN": "Manipur",
    "ML": "Meghalaya",
    "MZ": "Mizoram",
    "NL": "Nagaland",
    "OD": "Odisha",
    "OR": "Odisha",
    "PB": "Punjab",
    "PY": "Puducherry",
    "RJ": "Rajasthan",
    "SK": "Sikkim",
    "TN": "Tamil Nadu",
    "TG": "Telangana",
    "TS": "Telangana",
    "TR": "Tripura",
    "UP": "Uttar Pradesh",
    "UK": "Uttarakhand",
    "UT": "Uttarakhand",
    "WB": "West Bengal",
}


def state_name(code_or_name: str | None) -> str | None:
    """A state by name, whether the store sent a code (MH, IN-MH) or the name itself."""
    if not code_or_name:
        return None
    code = code_or_name.strip().upper().removeprefix("IN-")
    return STATES.get(code, code_or_name.strip())


def to_paise(amount: Any, *, field: str) -> int:
    """A store's money ("349.00", 349, "349") in paise; StoreUnreadable naming the field if it is not."""
    if amount is None or amount == "":
        return 0
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise StoreUnreadable(f"{field}: {amount!r} is not an amount") from None
    paise = value * 100
    if paise != paise.to_integral_value() or paise < 0:
        raise StoreUnreadable(f"{field}: {amount!r} is not a whole number of paise")
    return int(paise)


def read_payload(body: bytes, read: Callable[[Any], StoreOrder], *, platform: str) -> StoreOrder:
    """A webhook body read by an adapter's payload reader; StoreUnreadable naming what it cannot read:
    not JSON, text PostgreSQL cannot keep (NUL, control characters), or a field of the wrong type."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise StoreUnreadable(f"body: not JSON ({exc})") from None
    if problems := parsed_json_problems(body, payload):
        field, problem = problems[0]
        raise StoreUnreadable(f"{field}: {problem}")
    try:
        return read(payload)
    except (AttributeError, TypeError, ValueError, ArithmeticError) as exc:
        # A field of another type than the platform documents (a line that is a list, a quantity "x").
        raise StoreUnreadable(f"body: not a {platform} order ({type(exc).__name__}: {exc})") from None


def polled_delivery_id(store_order_id: object, updated: datetime, state: object) -> str:
    """The receipt id of one order as a poll listed it. Stores stamp changes to the whole second, so
    an order placed and cancelled within one second lists twice with the same time: its state is in
    the id, or the cancellation would be dropped as a retry of the listing already taken in."""
    return f"poll:{store_order_id}:{state}:{updated.isoformat()}"


def full_name(*parts: str | None) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the store asked us to wait (Retry-After), if it said."""
    raw = response.headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


def check(response: httpx.Response, what: str) -> Any:
    """The JSON of a 2xx answer; StoreError otherwise, retryable on 429 and 5xx."""
    if response.status_code == 429 or response.status_code >= 500:
        raise StoreError(
            f"{what}: HTTP {response.status_code}", retry_after_s=retry_after(response), retryable=True
        )
    if response.status_code >= 400:
        raise StoreError(f"{what}: HTTP {response.status_code} {response.text[:300]}", retryable=False)
    return response.json()


async def call(client: httpx.AsyncClient, method: str, url: str, what: str, **kwargs: Any) -> Any:
    """One HTTP call to a store: a network failure is a retryable StoreError."""
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise StoreError(f"{what}: {type(exc).__name__}: {exc}", retryable=True) from exc
    return check(response, what)
