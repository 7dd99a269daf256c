"""Settings of the returns service (environment variables)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from chassis.settings import RazorpayWebhookSettings, account, provider_url, secret
from services.returns.domain import RefundPolicy


class ReturnsSettings(RazorpayWebhookSettings):
    """Returns: port 8006, the return window, the refund policy and SLA, and the Razorpay account."""

    http_port: int = 8006
    return_window_days: int = Field(default=7, ge=0, description="Days after delivery to ask.")
    refund_shipping_fee: Literal["never", "seller_fault", "always"] = Field(
        default="seller_fault",
        description="When the order's shipping fee is refunded (pro rata to the value returned).",
    )
    refund_failed_qc_percent: int = Field(
        default=0, ge=0, le=100, description="Share refunded for a unit failing QC by the customer's fault."
    )
    refund_speed: Literal["normal", "optimum"] = "normal"
    refund_sla_days: float = Field(
        default=3, ge=0, description="Days after QC within which a refund must be processed."
    )
    sla_sweep_seconds: float = Field(
        default=300, gt=0, description="How often overdue refunds are looked for."
    )
    refund_sweep_seconds: float = Field(default=2, gt=0, description="How often pending refunds are sent.")
    refund_lease_seconds: float = Field(
        default=30, gt=0, description="A gateway call not answered within this is retried (same key)."
    )
    refund_reconcile_after_seconds: float = Field(
        default=900, gt=0, description="Ask the gateway about a refund whose webhook has not come by then."
    )
    razorpay_base_url: str = provider_url("https://api.razorpay.com; empty means the sandbox (SANDBOX_URL).")
    razorpay_key_id: str = account("rzp_test_sandbox", "Razorpay API key id.")
    razorpay_key_secret: str = secret("dev-razorpay-key-secret-local", "Razorpay API key secret.")
    razorpayx_account_number: str = account(
        "7878780080316316", "The RazorpayX account payouts are paid from."
    )
    razorpay_timeout_s: float = 10.0
    return_link_secret: str = secret("dev-return-link-secret-local", "Signs customers' return links.")
    refund_bank_key: str = secret(
        "dev-refund-bank-key-local",
        "Encrypts COD refunds' bank account numbers at rest: comma-separated secrets, the first "
        "encrypts, every one decrypts (put a new one first to rotate).",
    )
    return_link_ttl_days: float = Field(
        default=30, gt=0, description="A return link stops working this many days after it was made."
    )

    @model_validator(mode="after")
    def _default_to_sandbox(self) -> Self:
        if not self.razorpay_base_url:
            self.razorpay_base_url = self.sandbox_url
        return self

    def refund_policy(self) -> RefundPolicy:
        """The seller's refund rules."""
        return RefundPolicy(
            shipping_fee=self.refund_shipping_fee, failed_qc_percent=self.refund_failed_qc_percent
        )
