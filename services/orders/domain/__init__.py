"""Order decisions as plain functions over plain data: intake, the state machines, risk, priority,
what follows each event, and how Razorpay's webhooks read. No I/O; tested without Kafka or PostgreSQL.
"""

from services.orders.domain.intake import (
    EXCHANGE_GATEWAY,
    address_problems,
    all_problems,
    check_order,
    dedupe_problems,
    new_order_id,
    normalise_phone,
    phone_problems,
    raw_problems,
    schema_problems,
)
from services.orders.domain.machine import (
    BEFORE_DISPATCH,
    CORRECTABLE,
    PAYMENT_TRANSITIONS,
    TRANSITIONS,
    can_pay,
    can_transition,
)
from services.orders.domain.priority import PriorityRules, priority, promised_dispatch_by
from services.orders.domain.progress import (
    NO_REPLY_TARGET,
    PAID,
    UNROUTABLE_TARGET,
    NoReplyAction,
    UnroutableAction,
    next_after_hold,
    status_after_reservation,
    status_from_returns,
    status_from_shipments,
)
from services.orders.domain.risk import RiskFacts, RiskRules, risk_reasons

__all__ = [
    "BEFORE_DISPATCH",
    "CORRECTABLE",
    "EXCHANGE_GATEWAY",
    "NO_REPLY_TARGET",
    "PAID",
    "PAYMENT_TRANSITIONS",
    "TRANSITIONS",
    "UNROUTABLE_TARGET",
    "NoReplyAction",
    "PriorityRules",
    "RiskFacts",
    "RiskRules",
    "UnroutableAction",
    "address_problems",
    "all_problems",
    "can_pay",
    "can_transition",
    "check_order",
    "dedupe_problems",
    "new_order_id",
    "next_after_hold",
    "normalise_phone",
    "phone_problems",
    "priority",
    "promised_dispatch_by",
    "raw_problems",
    "risk_reasons",
    "schema_problems",
    "status_after_reservation",
    "status_from_returns",
    "status_from_shipments",
]
