"""Risk rules: when an order waits for a person's review instead of going straight on, and why.

Each rule that fires gives one reason an operator can read; no reason means no hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts import PaymentMethod


@dataclass(frozen=True, slots=True)
class RiskRules:
    """The thresholds, from settings."""

    cod_review_above_paise: int
    rto_threshold: int


@dataclass(frozen=True, slots=True)
class RiskFacts:
    """What is known about the customer beyond the order: blocklist entries and past returns to origin."""

    phone_blocked: str | None = None
    pincode_blocked: str | None = None
    past_rtos: int = 0


def risk_reasons(
    *, method: PaymentMethod, total_paise: int, pincode: str, facts: RiskFacts, rules: RiskRules
) -> list[str]:
    """Why this order should be reviewed before it is fulfilled (empty: it need not be)."""
    reasons = []
    if facts.phone_blocked is not None:
        reasons.append(f"phone is blocked: {facts.phone_blocked}")
    if facts.pincode_blocked is not None:
        reasons.append(f"pincode {pincode} is blocked: {facts.pincode_blocked}")
    if method is PaymentMethod.COD and total_paise > rules.cod_review_above_paise:
        reasons.append(
            f"COD of {total_paise} paise is above the review threshold {rules.cod_review_above_paise}"
        )
    # Returns to origin cost the seller two shipping legs and, for COD, the whole sale: a prepaid
    # customer has paid, so the history only holds COD orders.
    if method is PaymentMethod.COD and facts.past_rtos >= rules.rto_threshold:
        reasons.append(f"phone had {facts.past_rtos} past order(s) returned to origin")
    return reasons
