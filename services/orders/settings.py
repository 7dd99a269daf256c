"""Settings of the orders service (environment variables)."""

from __future__ import annotations

from datetime import date
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from chassis.settings import RazorpayWebhookSettings
from services.orders.domain import PriorityRules, RiskRules, normalise_phone

SANDBOX_OPERATOR_PHONE = "+919800000000"
"""The operator's number in development mode, when OPERATOR_PHONES names none (the sandbox records
what is sent to it like any other number)."""


class OrdersSettings(RazorpayWebhookSettings):
    """Orders: port 8001, intake limits, payment and COD timeouts, risk rules and priority."""

    http_port: int = 8001
    cod_limit_paise: int = Field(default=5_000_000, description="Largest COD order (₹50,000).")

    payment_expiry_minutes: float = Field(
        default=30, gt=0, description="A prepaid order not paid by then is cancelled and its stock released."
    )
    cod_confirmation_hours: float = Field(
        default=24, gt=0, description="How long a COD order waits for the customer's WhatsApp reply."
    )
    cod_no_reply_action: Literal["hold", "cancel"] = Field(
        default="hold", description="No COD reply in time: hold for a call, or cancel."
    )
    unroutable_action: Literal["hold", "backorder", "cancel"] = Field(
        default="hold", description="What a final reservation failure does to the order."
    )
    sweep_interval_seconds: float = Field(
        default=5, gt=0, description="How often expiries and COD timeouts are checked."
    )

    risk_cod_review_above_paise: int = Field(
        default=1_000_000, description="COD orders above this (₹10,000) wait for review."
    )
    risk_rto_threshold: int = Field(
        default=2, ge=1, description="A phone with this many past returns to origin waits for review."
    )

    dispatch_cutoff_hour_ist: int = Field(default=14, ge=0, le=23)
    standard_extra_days: int = Field(default=1, ge=0)
    dispatch_holidays: list[date] = Field(
        default_factory=list,
        description="IST dates couriers do not collect (Diwali, Holi …), as a JSON list of YYYY-MM-DD.",
    )
    operator_phones: list[str] = Field(
        default_factory=list,
        description="The operators' own mobile numbers, as a JSON list: a rehearsal order (ADR 0360) must "
        "name one as its customer's phone, so its messages reach no customer. None: no rehearsals "
        f"(development mode: {SANDBOX_OPERATOR_PHONE}).",
    )
    priority_speed_weight: int = 100
    priority_prepaid_weight: int = 10
    priority_high_value_paise: int = 500_000
    priority_high_value_weight: int = 1

    @field_validator("operator_phones")
    @classmethod
    def _indian_mobiles(cls, phones: list[str]) -> list[str]:
        normal = [normalise_phone(p) for p in phones]
        if bad := [p for p, n in zip(phones, normal, strict=True) if n is None]:
            raise ValueError(f"not Indian mobile numbers: {', '.join(bad)}")
        return [n for n in normal if n is not None]

    @model_validator(mode="after")
    def _sandbox_operator(self) -> Self:
        if self.dabba_mode == "development" and not self.operator_phones:
            self.operator_phones = [SANDBOX_OPERATOR_PHONE]
        return self

    def risk_rules(self) -> RiskRules:
        """The risk thresholds as the domain takes them."""
        return RiskRules(
            cod_review_above_paise=self.risk_cod_review_above_paise, rto_threshold=self.risk_rto_threshold
        )

    def priority_rules(self) -> PriorityRules:
        """The priority knobs as the domain takes them."""
        return PriorityRules(
            cutoff_hour_ist=self.dispatch_cutoff_hour_ist,
            standard_extra_days=self.standard_extra_days,
            holidays=frozenset(self.dispatch_holidays),
            speed_weight=self.priority_speed_weight,
            prepaid_weight=self.priority_prepaid_weight,
            high_value_paise=self.priority_high_value_paise,
            high_value_weight=self.priority_high_value_weight,
        )
