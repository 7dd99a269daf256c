"""The demo's outside world: the sandbox set for a lively road and WhatsApp replies, and the people
the services wait for (a few customers asking for returns, the warehouse desk receiving parcels).

Everything goes through the services' and the sandbox's own HTTP APIs with the local dev keys.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import phonenumbers

from deploy.local.demo_progress import AtWarehouse, Delivered, DeskWork
from deploy.local.ports import dev_headers

RETURN_REASONS = ("size_issue", "damaged", "wrong_item", "defective", "not_as_described", "changed_mind")


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


@dataclass(frozen=True)
class Lively:
    """How the demo's world behaves; each knob is overridable with its DEMO_* env variable."""

    step_ms: int = 2000
    ndr: float = 0.10
    rto: float = 0.25
    reattempt_ms: int = 4000
    cod_decline: float = 0.10
    returns: float = 0.05

    @classmethod
    def from_env(cls) -> Lively:
        d = cls()
        return cls(
            step_ms=int(_env_float("DEMO_STEP_MS", d.step_ms)),
            ndr=_env_float("DEMO_NDR", d.ndr),
            rto=_env_float("DEMO_RTO", d.rto),
            reattempt_ms=int(_env_float("DEMO_REATTEMPT_MS", d.reattempt_ms)),
            cod_decline=_env_float("DEMO_COD_DECLINE", d.cod_decline),
            returns=_env_float("DEMO_RETURNS", d.returns),
        )

    def describe(self) -> str:
        return (
            f"road steps {self.step_ms / 1000:g}s, NDR {self.ndr:.0%} per attempt (re-attempt after "
            f"{self.reattempt_ms / 1000:g}s), RTO {self.rto:.0%} of NDRs, COD declined "
            f"{self.cod_decline:.0%}, returns {self.returns:.0%} of delivered"
        )


def wa_id(phone: str) -> str:
    """The number as WhatsApp knows it (E.164 digits), whatever format the channel sent."""
    parsed = phonenumbers.parse(phone, "IN")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


class Desk:
    """Sandbox setup, per-order customer behaviour, and the returns desk, over one HTTP client."""

    def __init__(self, urls: dict[str, str], lively: Lively, rng: random.Random | None = None) -> None:
        self.urls = urls
        self.lively = lively
        self.rng = rng or random.Random()
        self.http = httpx.AsyncClient(timeout=15)
        self.return_lines: dict[str, tuple[tuple[str, int], ...]] = {}
        self.handled: set[str] = set()
        self.errors: list[str] = []
        self.tasks: set[asyncio.Task[None]] = set()

    async def _call(
        self, method: str, service: str, path: str, role: str = "ops", body: Any = None
    ) -> httpx.Response:
        return await self.http.request(
            method, self.urls[service] + path, json=body, headers=dev_headers(role)
        )

    async def configure_sandbox(self) -> None:
        """Parcels move on their own, some fail an attempt, a few go back; COD buyers tap confirm."""
        knobs = {
            "auto_advance": True,
            "step_delay_ms": self.lively.step_ms,
            "ndr_probability": self.lively.ndr,
            "rto_probability": self.lively.rto,
            "auto_reattempt_ms": self.lively.reattempt_ms,
        }
        (await self._call("POST", "sandbox", "/_sandbox/couriers/simulation", body=knobs)).raise_for_status()
        reply = {"auto_reply": "cod_confirm"}
        (await self._call("PUT", "sandbox", "/_sandbox/whatsapp/auto-reply", body=reply)).raise_for_status()

    async def before_send(self, order: dict[str, Any]) -> None:
        """What the outside world knows before the order arrives: the payment Razorpay captured,
        and for some COD buyers that they will tap "cancel" instead."""
        payment = order["payment"]
        if payment["gateway"] == "razorpay" and payment["gateway_payment_id"]:
            body = {"payment_id": payment["gateway_payment_id"], "amount": payment["amount_paise"]}
            await self._call("POST", "sandbox", "/_sandbox/razorpay/payments", body=body)
        elif payment["method"] == "cod" and self.rng.random() < self.lively.cod_decline:
            phone = wa_id(order["customer"]["phone"])
            body = {"on_whatsapp": True, "auto_reply": "cod_cancel"}
            await self._call("PUT", "sandbox", f"/_sandbox/whatsapp/numbers/{phone}", body=body)

    def hand(self, work: DeskWork) -> None:
        """Take on a piece of desk work in the background (each once)."""
        key = work.order_id if isinstance(work, Delivered) else work.return_id
        if key in self.handled:
            return
        self.handled.add(key)
        if isinstance(work, Delivered):
            if self.rng.random() >= self.lively.returns:
                return
            coro = self.request_return(work)
        else:
            coro = self.receive(work)
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _retry(
        self, what: str, attempt: Callable[[], Awaitable[httpx.Response]], tries: int = 10
    ) -> httpx.Response | None:
        """Call until it answers 2xx: the service may not have seen the event we reacted to yet."""
        response = None
        for _ in range(tries):
            try:
                response = await attempt()
                if response.is_success:
                    return response
            except httpx.HTTPError:
                pass
            await asyncio.sleep(1)
        detail = response.text[:200] if response is not None else "no answer"
        self.errors.append(f"{what}: {detail}")
        return None

    async def request_return(self, work: Delivered) -> None:
        """A customer asks to return one line of a delivered order, picked up from their door."""
        sku, quantity = self.rng.choice(work.lines)
        body: dict[str, Any] = {
            "order_id": work.order_id,
            "lines": [{"sku": sku, "quantity": quantity, "reason": self.rng.choice(RETURN_REASONS)}],
        }
        if work.cod:
            body["refund_to"] = {"kind": "upi", "vpa": f"demo{self.rng.randrange(10**6)}@okicici"}
        response = await self._retry(
            f"return of {work.order_id}", lambda: self._call("POST", "returns", "/returns", body=body)
        )
        if response is not None:
            self.return_lines[response.json()["return_id"]] = ((sku, quantity),)

    async def receive(self, work: AtWarehouse) -> None:
        """The warehouse desk: receive the parcel, pass QC on every unit (restock, then refund)."""
        lines = self.return_lines.get(work.return_id, work.lines)
        path = f"/returns/{work.return_id}"
        received = await self._retry(
            f"receive {work.return_id}",
            lambda: self._call("POST", "returns", path + "/receive", "warehouse"),
        )
        if received is None:
            return
        qc = {"lines": [{"sku": s, "passed": q, "failed": 0, "grade": "A"} for s, q in lines]}
        await self._retry(
            f"QC {work.return_id}", lambda: self._call("POST", "returns", path + "/qc", "warehouse", qc)
        )

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.http.aclose()
