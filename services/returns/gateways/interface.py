"""What returns needs from a payment gateway: refund a payment, or pay a customer out (COD).

Every call carries an idempotency key: the same key moves money at most once, so a call whose
answer was lost is simply made again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True, slots=True)
class RefundOrder:
    """Refund part or all of a captured payment."""

    idempotency_key: str
    payment_id: str
    amount_paise: int
    receipt: str
    speed: Literal["normal", "optimum"] = "normal"
    notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PayoutOrder:
    """Send money to a customer's UPI id or bank account (a COD order has no payment to refund)."""

    idempotency_key: str
    amount_paise: int
    reference_id: str
    contact_name: str
    contact_phone: str
    vpa: str | None = None
    bank_account: dict[str, str] | None = None
    """{"name", "ifsc", "account_number"} when paying to a bank account."""
    narration: str = "Dabba refund"
    notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GatewayReceipt:
    """The gateway took the request under its own id; `status` is its word for where it stands."""

    gateway_id: str
    status: str

    @property
    def processed(self) -> bool:
        return self.status == "processed"

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "rejected", "reversed", "cancelled")


class GatewayError(Exception):
    """A refund or payout was not accepted; ``status_code`` is the gateway's HTTP status, if any."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class GatewayRejected(GatewayError):
    """The gateway refused the request itself (amount above what is left, bad account): retrying
    the same request will not help; an operator must look."""


class GatewayUnavailable(GatewayError):
    """Timeout, 409 (still processing), 429, 5xx or an auth failure: retry with the same key."""


class RefundGateway(Protocol):
    """A gateway's refund and payout APIs."""

    async def refund(self, order: RefundOrder) -> GatewayReceipt:
        """Refund a payment; idempotent per ``order.idempotency_key``."""
        ...

    async def payout(self, order: PayoutOrder) -> GatewayReceipt:
        """Pay a customer out; idempotent per ``order.idempotency_key``."""
        ...

    async def fetch(self, kind: Literal["refund", "payout"], gateway_id: str) -> GatewayReceipt:
        """Where a refund or payout stands now (for one whose webhook never came)."""
        ...
