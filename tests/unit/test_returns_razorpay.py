"""The Razorpay adapters speak the documented Refunds and RazorpayX Payouts shapes, exercised against
the sandbox in-process: idempotency keys, lost answers, refusals naming the field, signed webhooks."""

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox import razorpay as sandbox_razorpay
from sandbox.app import create_app
from services.returns.gateways.interface import GatewayRejected, GatewayUnavailable, PayoutOrder, RefundOrder
from services.returns.gateways.razorpay import RazorpayGateway, payout_body, refund_body


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app()
    app.state.razorpay_settings = sandbox_razorpay.RazorpaySandboxSettings(
        razorpay_webhook_urls="", razorpay_webhook_delay_ms=0
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
        yield client


@pytest.fixture
def gateway(sandbox: httpx.AsyncClient) -> RazorpayGateway:
    return RazorpayGateway(
        sandbox, key_id="rzp_test_1", key_secret="secret", account_number="7878780080316316"
    )


def refund(key: str = "RFD-7K2Q9D-0001-a1", amount: int = 34900) -> RefundOrder:
    return RefundOrder(
        idempotency_key=key,
        payment_id="pay_29QQoUBi66xm2f",
        amount_paise=amount,
        receipt="RFD-7K2Q9D-0001",
        notes={"return_id": "RMA-7K2Q9D"},
    )


def test_the_refund_request_is_razorpays_documented_body():
    assert refund_body(refund()) == {
        "amount": 34900,
        "speed": "normal",
        "receipt": "RFD-7K2Q9D-0001",
        "notes": {"return_id": "RMA-7K2Q9D"},
    }


def test_a_upi_payout_is_a_composite_payout_with_the_fund_account_inline():
    body = payout_body(
        PayoutOrder(
            idempotency_key="RFD-1-a1xxxx",
            amount_paise=34900,
            reference_id="RFD-1",
            contact_name="Asha Verma",
            contact_phone="+919812345678",
            vpa="asha@okicici",
        ),
        account_number="7878780080316316",
    )
    assert body["mode"] == "UPI" and body["purpose"] == "refund" and body["currency"] == "INR"
    assert body["fund_account"] == {
        "account_type": "vpa",
        "vpa": {"address": "asha@okicici"},
        "contact": {"name": "Asha Verma", "contact": "9812345678", "type": "customer"},
    }
    assert body["narration"] == "Dabba refund"


async def test_a_refund_is_created_pending_with_razorpays_entity(gateway, sandbox):
    receipt = await gateway.refund(refund())
    assert receipt.gateway_id.startswith("rfnd_")
    assert receipt.status == "pending"
    (entity,) = (await sandbox.get("/_sandbox/razorpay/refunds")).json()
    assert {
        k: entity[k] for k in ("entity", "amount", "currency", "payment_id", "receipt", "speed_requested")
    } == {
        "entity": "refund",
        "amount": 34900,
        "currency": "INR",
        "payment_id": "pay_29QQoUBi66xm2f",
        "receipt": "RFD-7K2Q9D-0001",
        "speed_requested": "normal",
    }


async def test_a_refund_and_a_payout_can_be_looked_up_when_their_webhook_never_came(gateway):
    created = await gateway.refund(refund())
    assert (await gateway.fetch("refund", created.gateway_id)).gateway_id == created.gateway_id
    with pytest.raises(GatewayRejected, match="does not exist"):
        await gateway.fetch("payout", "pout_missing")


async def test_the_same_key_refunds_once_even_when_the_answer_was_lost(gateway, sandbox):
    await sandbox.post("/_sandbox/razorpay/knobs", json={"lose_responses": 1})
    with pytest.raises(GatewayUnavailable, match="504"):
        await gateway.refund(refund())
    again = await gateway.refund(refund())
    assert len((await sandbox.get("/_sandbox/razorpay/refunds")).json()) == 1
    assert again.gateway_id == (await sandbox.get("/_sandbox/razorpay/refunds")).json()[0]["id"]


async def test_a_new_key_is_a_new_refund(gateway, sandbox):
    await gateway.refund(refund("RFD-7K2Q9D-0001-a1"))
    await gateway.refund(refund("RFD-7K2Q9D-0001-a2"))
    assert len((await sandbox.get("/_sandbox/razorpay/refunds")).json()) == 2


async def test_a_different_body_under_a_used_key_is_refused(gateway):
    await gateway.refund(refund())
    with pytest.raises(GatewayRejected, match="Different request with the same idempotency key"):
        await gateway.refund(refund(amount=100))


async def test_refunding_more_than_was_captured_is_refused_naming_the_amount(gateway, sandbox):
    await sandbox.post(
        "/_sandbox/razorpay/payments", json={"payment_id": "pay_29QQoUBi66xm2f", "amount": 50000}
    )
    await gateway.refund(refund("RFD-A-0001-a1", 34900))
    with pytest.raises(GatewayRejected, match=r"greater than amount captured \(field amount\)"):
        await gateway.refund(refund("RFD-B-0001-a1", 34900))


async def test_a_gateway_outage_is_retryable_and_bad_credentials_are_not_money_moved(sandbox):
    await sandbox.post("/_sandbox/faults", json={"provider": "razorpay", "status_code": 503})
    gateway = RazorpayGateway(sandbox, key_id="k", key_secret="s", account_number="1")
    with pytest.raises(GatewayUnavailable):
        await gateway.refund(refund())
    r = await sandbox.post("/v1/payments/pay_1/refund", json={"amount": 100})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "BAD_REQUEST_ERROR"
    assert (await sandbox.get("/_sandbox/razorpay/refunds")).json() == []


async def test_a_payout_needs_the_idempotency_header_and_pays_once_per_key(gateway, sandbox):
    order = PayoutOrder(
        idempotency_key="RFD-7K2Q9D-0001-a1",
        amount_paise=34900,
        reference_id="RFD-7K2Q9D-0001",
        contact_name="Asha Verma",
        contact_phone="+919812345678",
        bank_account={"name": "Asha Verma", "ifsc": "HDFC0001234", "account_number": "1121431121541121"},
    )
    first = await gateway.payout(order)
    second = await gateway.payout(order)
    assert first == second and first.gateway_id.startswith("pout_") and first.status == "processing"
    (payout,) = (await sandbox.get("/_sandbox/razorpay/payouts")).json()
    assert (payout["mode"], payout["fund_account"]["account_type"]) == ("IMPS", "bank_account")
    auth = "Basic " + base64.b64encode(b"k:s").decode()
    r = await sandbox.post(
        "/v1/payouts", json=payout_body(order, account_number="1"), headers={"Authorization": auth}
    )
    assert r.status_code == 400
    assert "X-Payout-Idempotency" in r.json()["error"]["description"]


async def test_a_payout_to_a_malformed_vpa_is_refused_naming_the_field(gateway):
    order = PayoutOrder(
        idempotency_key="RFD-7K2Q9D-0002-a1",
        amount_paise=34900,
        reference_id="RFD-7K2Q9D-0002",
        contact_name="Asha",
        contact_phone="+919812345678",
        vpa="not-a-vpa",
    )
    with pytest.raises(GatewayRejected, match=r"\(field vpa\)"):
        await gateway.payout(order)


def test_webhooks_are_signed_as_razorpay_signs_them():
    body = json.dumps({"event": "refund.processed"}).encode()
    expected = hmac.new(b"dev-razorpay-webhook-secret-local", body, hashlib.sha256).hexdigest()
    assert sandbox_razorpay.sign(body, "dev-razorpay-webhook-secret-local") == expected
