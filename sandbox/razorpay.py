"""Razorpay shapes: Refunds API (POST /v1/payments/{id}/refund, GET /v1/refunds/{id}), RazorpayX
composite Payouts API (POST /v1/payouts), and signed webhooks (refund.processed / refund.failed,
payout.processed / payout.failed) sent to every URL in RAZORPAY_WEBHOOK_URLS.

Idempotency as documented: X-Refund-Idempotency (optional) and X-Payout-Idempotency (required);
the same key with the same body answers the same entity, with another body a BAD_REQUEST_ERROR.
Knobs under /_sandbox/razorpay: lose the next responses after doing the work (a gateway timeout
the caller cannot tell from a failure), fail the next refunds/payouts, register captured payments.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sandbox.control import fault_gate
from sandbox.errors import ProviderError
from sandbox.state import Provider

_KEY = re.compile(r"^[A-Za-z0-9_-]{10,}$")
_IFSC = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")
_VPA = re.compile(r"^[\w.\-]{2,256}@[A-Za-z][A-Za-z0-9]{1,64}$")


class RazorpaySandboxSettings(BaseSettings):
    """Webhook targets and secret; the URLs default to orders' and returns' /webhooks/razorpay."""

    model_config = SettingsConfigDict(extra="ignore")

    razorpay_webhook_secret: str = "dev-razorpay-webhook-secret-local"
    razorpay_webhook_urls: str | None = None
    razorpay_webhook_delay_ms: int = 300
    razorpay_key_id: str | None = None
    razorpay_key_secret: str | None = None

    def webhook_urls(self) -> list[str]:
        if self.razorpay_webhook_urls is not None:
            return [u.strip() for u in self.razorpay_webhook_urls.split(",") if u.strip()]
        orders = os.environ.get("ORDERS_URL", "http://localhost:8001")
        returns = os.environ.get("RETURNS_URL", "http://localhost:8006")
        return [f"{orders}/webhooks/razorpay", f"{returns}/webhooks/razorpay"]


@dataclass
class RazorpayState:
    """Refunds and payouts by id, the idempotency index, captured payments and delivered webhooks."""

    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    payouts: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    captured: dict[str, int] = field(default_factory=dict)
    refunded: dict[str, int] = field(default_factory=dict)
    lose_responses: int = 0
    fail_next: int = 0
    drop_webhooks: bool = False
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    webhooks_released: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def clear(self) -> None:
        self.refunds.clear()
        self.payouts.clear()
        self.by_key.clear()
        self.captured.clear()
        self.refunded.clear()
        self.lose_responses = 0
        self.fail_next = 0
        self.drop_webhooks = False
        self.webhooks.clear()
        self.webhooks_released.set()

    def __post_init__(self) -> None:
        self.webhooks_released.set()


def razorpay_error(status_code: int, description: str, field_name: str | None = None) -> ProviderError:
    """An error in Razorpay's shape: {"error": {code, description, source, step, reason, metadata}}."""
    code = "SERVER_ERROR" if status_code >= 500 else "BAD_REQUEST_ERROR"
    error: dict[str, Any] = {
        "code": code,
        "description": description,
        "source": "NA",
        "step": "NA",
        "reason": "NA",
        "metadata": {},
    }
    if field_name:
        error["field"] = field_name
    return ProviderError(status_code, {"error": error})


def render_fault(status_code: int) -> ProviderError:
    return razorpay_error(status_code, "Sandbox injected fault")


async def get_razorpay(request: Request) -> RazorpayState:
    state: RazorpayState = request.app.state.razorpay
    return state


Razorpay = Annotated[RazorpayState, Depends(get_razorpay)]


async def require_basic_auth(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    settings: RazorpaySandboxSettings = request.app.state.razorpay_settings
    scheme, _, encoded = (authorization or "").partition(" ")
    try:
        key_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        key_id = secret = ""
    expected = (settings.razorpay_key_id, settings.razorpay_key_secret)
    if scheme != "Basic" or not key_id or not secret or (expected[0] and (key_id, secret) != expected):
        raise razorpay_error(401, "The api key provided is invalid")


router = APIRouter(dependencies=[Depends(fault_gate(Provider.RAZORPAY, render_fault))])
control = APIRouter(prefix="/_sandbox/razorpay")


def _body_digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise razorpay_error(400, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise razorpay_error(400, "The request body must be a JSON object")
    return body


def _amount(body: dict[str, Any]) -> int:
    amount = body.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise razorpay_error(400, "The amount must be an integer.", "amount")
    if amount < 100:
        raise razorpay_error(400, "The amount must be at least INR 1.00", "amount")
    return amount


def _notes(body: dict[str, Any]) -> dict[str, Any]:
    notes = body.get("notes") or {}
    if not isinstance(notes, dict) or len(notes) > 15:
        raise razorpay_error(400, "notes must be an object of at most 15 keys", "notes")
    return notes


def _idempotent(state: RazorpayState, kind: str, key: str | None, body: dict[str, Any]) -> str | None:
    """The id already created under this key, or None; a different body under a key is refused."""
    if key is None:
        return None
    if not _KEY.match(key):
        raise razorpay_error(400, "The idempotency key must be at least 10 characters of [A-Za-z0-9_-]")
    seen = state.by_key.get((kind, key))
    if seen is None:
        return None
    entity_id, digest = seen
    if digest != _body_digest(body):
        raise razorpay_error(
            400, "Different request with the same idempotency key has already been processed."
        )
    return entity_id


async def _answer(state: RazorpayState, entity: dict[str, Any]) -> dict[str, Any]:
    """The entity, unless a lost response is armed: the work is done but the caller sees a timeout."""
    if state.lose_responses > 0:
        state.lose_responses -= 1
        raise razorpay_error(504, "Gateway timeout")
    return entity


@router.post("/v1/payments/{payment_id}/refund", dependencies=[Depends(require_basic_auth)])
async def create_refund(
    payment_id: str,
    request: Request,
    state: Razorpay,
    x_refund_idempotency: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    body = await _json(request)
    async with state.lock:
        existing = _idempotent(state, "refund", x_refund_idempotency, body)
        if existing is not None:
            return await _answer(state, state.refunds[existing])
        if not payment_id.startswith("pay_"):
            raise razorpay_error(400, "The id provided does not exist", "payment_id")
        amount = _amount(body)
        speed = body.get("speed", "normal")
        if speed not in ("normal", "optimum"):
            raise razorpay_error(400, "The selected speed is invalid.", "speed")
        receipt = body.get("receipt")
        if receipt is not None and (not isinstance(receipt, str) or len(receipt) > 40):
            raise razorpay_error(400, "The receipt may not be greater than 40 characters.", "receipt")
        refunded = state.refunded.get(payment_id, 0)
        captured = state.captured.get(payment_id)
        if captured is not None and amount > captured - refunded:
            raise razorpay_error(400, "The refund amount provided is greater than amount captured", "amount")
        instant = speed == "optimum"
        refund = {
            "id": "rfnd_" + secrets.token_urlsafe(10).replace("-", "x").replace("_", "y")[:14],
            "entity": "refund",
            "amount": amount,
            "currency": "INR",
            "payment_id": payment_id,
            "notes": _notes(body),
            "receipt": receipt,
            "acquirer_data": {"arn": None},
            "created_at": int(time.time()),
            "batch_id": None,
            "status": "processed" if instant else "pending",
            "speed_processed": "instant" if instant else "normal",
            "speed_requested": speed,
        }
        fails = state.fail_next > 0
        if fails:
            state.fail_next -= 1
            refund["status"] = "pending"
        state.refunds[refund["id"]] = refund
        state.refunded[payment_id] = refunded + amount
        if x_refund_idempotency is not None:
            state.by_key[("refund", x_refund_idempotency)] = (refund["id"], _body_digest(body))
        _later(request, state, _settle_refund(request, state, refund["id"], fails))
        return await _answer(state, dict(refund))


@router.get("/v1/refunds/{refund_id}", dependencies=[Depends(require_basic_auth)])
async def fetch_refund(refund_id: str, state: Razorpay) -> dict[str, Any]:
    async with state.lock:
        refund = state.refunds.get(refund_id)
        if refund is None:
            raise razorpay_error(400, "The id provided does not exist", "id")
        return dict(refund)


@router.get("/v1/payouts/{payout_id}", dependencies=[Depends(require_basic_auth)])
async def fetch_payout(payout_id: str, state: Razorpay) -> dict[str, Any]:
    async with state.lock:
        payout = state.payouts.get(payout_id)
        if payout is None:
            raise razorpay_error(400, "The id provided does not exist", "id")
        return dict(payout)


def _fund_account(body: dict[str, Any]) -> dict[str, Any]:
    account = body.get("fund_account")
    if not isinstance(account, dict):
        raise razorpay_error(400, "The fund account field is required.", "fund_account")
    contact = account.get("contact")
    if not isinstance(contact, dict) or not contact.get("name"):
        raise razorpay_error(400, "The contact name field is required.", "fund_account.contact.name")
    kind = account.get("account_type")
    if kind == "vpa":
        address = (account.get("vpa") or {}).get("address", "")
        if not _VPA.match(str(address)):
            raise razorpay_error(400, "Invalid VPA. Please enter a valid Virtual Payment Address", "vpa")
    elif kind == "bank_account":
        bank = account.get("bank_account") or {}
        if not _IFSC.match(str(bank.get("ifsc", ""))):
            raise razorpay_error(400, "The ifsc must be 11 characters.", "ifsc")
        if not str(bank.get("account_number", "")).isdigit() or not bank.get("name"):
            raise razorpay_error(400, "The bank account number and name are required.", "account_number")
    else:
        raise razorpay_error(400, "The account type field is invalid.", "fund_account.account_type")
    return account


@router.post("/v1/payouts", dependencies=[Depends(require_basic_auth)])
async def create_payout(
    request: Request,
    state: Razorpay,
    x_payout_idempotency: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    body = await _json(request)
    if x_payout_idempotency is None:
        raise razorpay_error(400, "X-Payout-Idempotency header is required for payouts")
    async with state.lock:
        existing = _idempotent(state, "payout", x_payout_idempotency, body)
        if existing is not None:
            return await _answer(state, state.payouts[existing])
        if not body.get("account_number"):
            raise razorpay_error(400, "The account number field is required.", "account_number")
        amount = _amount(body)
        if body.get("currency") != "INR":
            raise razorpay_error(400, "The currency must be INR.", "currency")
        if body.get("mode") not in ("UPI", "IMPS", "NEFT", "RTGS"):
            raise razorpay_error(400, "The mode is invalid.", "mode")
        if not body.get("purpose"):
            raise razorpay_error(400, "The purpose field is required.", "purpose")
        account = _fund_account(body)
        if (account["account_type"] == "vpa") != (body["mode"] == "UPI"):
            raise razorpay_error(400, "UPI mode is for VPA fund accounts only.", "mode")
        fails = state.fail_next > 0
        if fails:
            state.fail_next -= 1
        payout = {
            "id": "pout_" + secrets.token_hex(7),
            "entity": "payout",
            "fund_account_id": "fa_" + secrets.token_hex(7),
            "fund_account": account,
            "amount": amount,
            "currency": "INR",
            "notes": _notes(body),
            "fees": 0,
            "tax": 0,
            "status": "processing",
            "purpose": body["purpose"],
            "utr": None,
            "mode": body["mode"],
            "reference_id": body.get("reference_id"),
            "narration": body.get("narration"),
            "batch_id": None,
            "failure_reason": None,
            "created_at": int(time.time()),
        }
        state.payouts[payout["id"]] = payout
        state.by_key[("payout", x_payout_idempotency)] = (payout["id"], _body_digest(body))
        _later(request, state, _settle_payout(request, state, payout["id"], fails))
        return await _answer(state, dict(payout))


# --- webhooks -------------------------------------------------------------------------------


def sign(body: bytes, secret: str) -> str:
    """X-Razorpay-Signature: hex HMAC-SHA256 of the raw body with the webhook secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _later(request: Request, state: RazorpayState, work: Any) -> None:
    task = asyncio.create_task(work)
    state.tasks.add(task)
    task.add_done_callback(state.tasks.discard)


async def _settle_refund(request: Request, state: RazorpayState, refund_id: str, fails: bool) -> None:
    settings: RazorpaySandboxSettings = request.app.state.razorpay_settings
    await asyncio.sleep(settings.razorpay_webhook_delay_ms / 1000)
    await state.webhooks_released.wait()
    async with state.lock:
        refund = state.refunds[refund_id]
        if fails:
            refund["status"] = "failed"
            state.refunded[refund["payment_id"]] -= refund["amount"]
        else:
            refund["status"] = "processed"
            refund["acquirer_data"] = {"arn": "74836" + secrets.token_hex(8)}
        payment = {
            "id": refund["payment_id"],
            "entity": "payment",
            "amount_refunded": state.refunded[refund["payment_id"]],
            "refund_status": None if fails else "partial",
        }
        event = "refund.failed" if fails else "refund.processed"
        payload = {"refund": {"entity": dict(refund)}, "payment": {"entity": payment}}
    await _deliver(request, state, event, ["refund", "payment"], payload)


async def _settle_payout(request: Request, state: RazorpayState, payout_id: str, fails: bool) -> None:
    settings: RazorpaySandboxSettings = request.app.state.razorpay_settings
    await asyncio.sleep(settings.razorpay_webhook_delay_ms / 1000)
    await state.webhooks_released.wait()
    async with state.lock:
        payout = state.payouts[payout_id]
        if fails:
            payout["status"] = "failed"
            payout["failure_reason"] = "Beneficiary bank offline"
        else:
            payout["status"] = "processed"
            payout["utr"] = secrets.token_hex(6).upper()
        payload = {"payout": {"entity": dict(payout)}}
    await _deliver(request, state, "payout.failed" if fails else "payout.processed", ["payout"], payload)


async def _deliver(
    request: Request, state: RazorpayState, event: str, contains: list[str], payload: dict[str, Any]
) -> None:
    """POST the signed event to every URL; retry 5xx and connection errors a few times, as Razorpay
    retries failed deliveries; a 4xx (e.g. a service without the route yet) is given up at once."""
    settings: RazorpaySandboxSettings = request.app.state.razorpay_settings
    body = json.dumps(
        {
            "entity": "event",
            "account_id": "acc_DabbaSandbox01",
            "event": event,
            "contains": contains,
            "payload": payload,
            "created_at": int(time.time()),
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": sign(body, settings.razorpay_webhook_secret),
        "X-Razorpay-Event-Id": "evt_" + secrets.token_hex(7),
    }
    if state.drop_webhooks:
        async with state.lock:
            state.webhooks.append(
                {"url": None, "event": event, "status": "dropped", "body": json.loads(body)}
            )
        return
    async with httpx.AsyncClient(timeout=10) as http:
        for url in settings.webhook_urls():
            status: int | str = "unsent"
            for attempt in range(5):
                try:
                    status = (await http.post(url, content=body, headers=headers)).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                if isinstance(status, int) and status < 500:
                    break
                await asyncio.sleep(0.5 * 2**attempt)
            async with state.lock:
                state.webhooks.append(
                    {"url": url, "event": event, "status": status, "body": json.loads(body)}
                )


# --- control --------------------------------------------------------------------------------


class Knobs(BaseModel):
    """Lose the next responses (work done, caller sees a 504), fail the next refunds/payouts, hold
    webhooks back (a normal-speed refund settles days later) until released, or drop them."""

    lose_responses: int = Field(default=0, ge=0, le=100)
    fail_next: int = Field(default=0, ge=0, le=100)
    hold_webhooks: bool = False
    drop_webhooks: bool = False


class CapturedPayment(BaseModel):
    """A captured payment refunds are checked against (unregistered payments accept any amount)."""

    payment_id: str = Field(pattern=r"^pay_")
    amount: int = Field(ge=100)


@control.post("/knobs")
async def set_knobs(body: Knobs, state: Razorpay) -> dict[str, Any]:
    async with state.lock:
        state.lose_responses = body.lose_responses
        state.fail_next = body.fail_next
        state.drop_webhooks = body.drop_webhooks
        if body.hold_webhooks:
            state.webhooks_released.clear()
        else:
            state.webhooks_released.set()
        return body.model_dump()


@control.post("/payments")
async def register_payment(body: CapturedPayment, state: Razorpay) -> dict[str, Any]:
    async with state.lock:
        state.captured[body.payment_id] = body.amount
    return body.model_dump()


@control.get("/refunds")
async def list_refunds(state: Razorpay, payment_id: str | None = None) -> list[dict[str, Any]]:
    async with state.lock:
        return [dict(r) for r in state.refunds.values() if payment_id in (None, r["payment_id"])]


@control.get("/payouts")
async def list_payouts(state: Razorpay, reference_id: str | None = None) -> list[dict[str, Any]]:
    async with state.lock:
        return [dict(p) for p in state.payouts.values() if reference_id in (None, p["reference_id"])]


@control.get("/webhooks")
async def list_webhooks(state: Razorpay) -> list[dict[str, Any]]:
    async with state.lock:
        return list(state.webhooks)


@control.post("/reset")
async def reset(state: Razorpay) -> dict[str, str]:
    async with state.lock:
        state.clear()
    return {"status": "reset"}
