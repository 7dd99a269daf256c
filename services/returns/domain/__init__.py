"""Return decisions as plain functions: the status machine, eligibility, refund amounts, exchanges.

No I/O here: everything takes and returns plain data, and is tested without Kafka or PostgreSQL.
"""

from services.returns.domain.eligibility import (
    SkuRule,
    eligibility_problems,
    exchange_problems,
    product_of,
    request_problems,
)
from services.returns.domain.machine import (
    OPEN_STATUSES,
    TRANSITIONS,
    IllegalTransition,
    advance,
    is_behind,
    new_refund_id,
    new_return_id,
)
from services.returns.domain.money import (
    SELLER_FAULT,
    QcVerdict,
    RefundPolicy,
    RefundQuote,
    creditable_units,
    exchange_lines,
    refund_mode,
    refund_quote,
)

__all__ = [
    "OPEN_STATUSES",
    "SELLER_FAULT",
    "TRANSITIONS",
    "IllegalTransition",
    "QcVerdict",
    "RefundPolicy",
    "RefundQuote",
    "SkuRule",
    "advance",
    "creditable_units",
    "eligibility_problems",
    "exchange_lines",
    "exchange_problems",
    "is_behind",
    "new_refund_id",
    "new_return_id",
    "product_of",
    "refund_mode",
    "refund_quote",
    "request_problems",
]
