"""Razorpay adapters: Refunds API (POST /v1/payments/{id}/refund, X-Refund-Idempotency) and
RazorpayX composite Payouts API (POST /v1/payouts, X-Payout-Idempotency), basic auth key:secret.

Both answer the same entity on a retry with the same key and body; see docs/adr/0050.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import httpx

from services.returns.gateways.interface import (
    GatewayReceipt,
    GatewayRejected,
    GatewayUnavailable,
    PayoutOrder,
    RefundOrder,
)

# RazorpayX accepts at most 30 letters, digits and spaces as the narration on the bank statement.
_NARRATION = re.compile(r"[^A-Za-z0-9 ]")
# 409: "a request with this key is still being processed" — documented as safe to retry.
_RETRYABLE_4XX = frozenset({401, 403, 408, 409, 429})


def refund_body(order: RefundOrder) -> dict[str, Any]:
    """Razorpay's create-refund request: amount in paise, speed, receipt and notes."""
    return {
        "amount": order.amount_paise,
        "speed": order.speed,
        "receipt": order.receipt,
        "notes": order.notes,
    }


def payout_body(order: PayoutOrder, *, account_number: str) -> dict[str, Any]:
    """RazorpayX's composite payout: the contact and fund account inline, purpose refund."""
    # RazorpayX contacts carry the 10-digit Indian number, not E.164.
    phone = order.contact_phone.removeprefix("+91")
    contact = {"name": order.contact_name, "contact": phone, "type": "customer"}
    if order.vpa:
        fund_account: dict[str, Any] = {
            "account_type": "vpa",
            "vpa": {"address": order.vpa},
            "contact": contact,
        }
        mode = "UPI"
    elif order.bank_account:
        fund_account = {
            "account_type": "bank_account",
            "bank_account": order.bank_account,
            "contact": contact,
        }
        mode = "IMPS"
    else:
        raise ValueError("a payout needs a vpa or a bank account")
    return {
        "account_number": account_number,
        "amount": order.amount_paise,
        "currency": "INR",
        "mode": mode,
        "purpose": "refund",
        "fund_account": fund_account,
        "queue_if_low_balance": True,
        "reference_id": order.reference_id,
        "narration": _NARRATION.sub(" ", order.narration)[:30],
        "notes": order.notes,
    }


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return response.text[:300]
    field = f" (field {error['field']})" if error.get("field") else ""
    return f"{error.get('code', '')}: {error.get('description', '')}{field}"


class RazorpayGateway:
    """RefundGateway over an httpx client whose base_url is https://api.razorpay.com (or the sandbox)."""

    def __init__(self, client: httpx.AsyncClient, *, key_id: str, key_secret: str, account_number: str):
        self._client = client
        self._auth = httpx.BasicAuth(key_id, key_secret)
        self._account_number = account_number

    async def refund(self, order: RefundOrder) -> GatewayReceipt:
        """Create (or, on a retry, find) the refund; see RefundGateway.refund."""
        return await self._post(
            f"/v1/payments/{order.payment_id}/refund",
            refund_body(order),
            {"X-Refund-Idempotency": order.idempotency_key},
        )

    async def payout(self, order: PayoutOrder) -> GatewayReceipt:
        """Create (or, on a retry, find) the payout; see RefundGateway.payout."""
        return await self._post(
            "/v1/payouts",
            payout_body(order, account_number=self._account_number),
            {"X-Payout-Idempotency": order.idempotency_key},
        )

    async def fetch(self, kind: Literal["refund", "payout"], gateway_id: str) -> GatewayReceipt:
        """GET /v1/refunds/{id} or /v1/payouts/{id}; see RefundGateway.fetch."""
        try:
            response = await self._client.get(f"/v1/{kind}s/{gateway_id}", auth=self._auth)
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"razorpay unreachable: {exc!r}") from exc
        return self._receipt(response)

    async def _post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> GatewayReceipt:
        try:
            response = await self._client.post(path, json=body, headers=headers, auth=self._auth)
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"razorpay unreachable: {exc!r}") from exc
        return self._receipt(response)

    @staticmethod
    def _receipt(response: httpx.Response) -> GatewayReceipt:
        if response.status_code >= 400:
            error = f"razorpay HTTP {response.status_code} {_error_text(response)}"
            if response.status_code >= 500 or response.status_code in _RETRYABLE_4XX:
                raise GatewayUnavailable(error, status_code=response.status_code)
            raise GatewayRejected(error, status_code=response.status_code)
        try:
            entity = response.json()
            return GatewayReceipt(gateway_id=str(entity["id"]), status=str(entity["status"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise GatewayUnavailable(f"razorpay answered without an id: {response.text[:300]}") from exc
