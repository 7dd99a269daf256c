"""Return decisions as plain functions: eligibility, the RMA id and the return status machine.

No I/O here: everything takes and returns plain data, and is tested without Kafka or PostgreSQL.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

from contracts import FieldProblem, OrderStatus, ReturnLine, ReturnStatus

R = ReturnStatus

TRANSITIONS: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    R.REQUESTED: frozenset({R.APPROVED, R.REJECTED}),
    R.APPROVED: frozenset({R.PICKUP_SCHEDULED}),
    R.REJECTED: frozenset({R.CLOSED}),
    R.PICKUP_SCHEDULED: frozenset({R.PICKED_UP}),
    R.PICKED_UP: frozenset({R.RECEIVED}),
    R.RECEIVED: frozenset({R.QC_PASSED, R.QC_FAILED}),
    R.QC_PASSED: frozenset({R.RESTOCKED}),
    R.QC_FAILED: frozenset({R.QUARANTINED}),
    R.RESTOCKED: frozenset({R.REFUND_PENDING, R.EXCHANGE_PLACED}),
    R.QUARANTINED: frozenset({R.REFUND_PENDING, R.EXCHANGE_PLACED, R.CLOSED}),
    R.REFUND_PENDING: frozenset({R.REFUNDED}),
    R.REFUNDED: frozenset({R.CLOSED}),
    R.EXCHANGE_PLACED: frozenset({R.CLOSED}),
    R.CLOSED: frozenset(),
}
"""Allowed return status changes: DESIGN.md's return machine, as data."""

OPEN_STATUSES = frozenset(TRANSITIONS) - {R.REJECTED, R.CLOSED}
"""A return in one of these still holds its SKUs: they cannot be requested again."""


class IllegalTransition(ValueError):
    """A status change the return machine does not allow."""


def advance(current: ReturnStatus, target: ReturnStatus) -> ReturnStatus:
    """The new status; raises IllegalTransition unless current → target is allowed."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"a return cannot go from {current} to {target}")
    return target


_RMA_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread


def new_return_id() -> str:
    """A short id a customer can read out on the phone, such as RMA-7K2Q9D."""
    return "RMA-" + "".join(secrets.choice(_RMA_ALPHABET) for _ in range(6))


def eligibility_problems(
    *,
    order_id: str,
    order_status: OrderStatus | None,
    delivered_at: datetime | None,
    now: datetime,
    window_days: int,
    lines: list[ReturnLine],
    already_requested: Collection[str],
) -> list[FieldProblem]:
    """Every reason this return cannot be requested (an empty list means it can)."""
    problems: list[FieldProblem] = []

    def problem(field: str, text: str) -> None:
        problems.append(FieldProblem(field=field, problem=text))

    if order_status is None:
        problem("order_id", f"no delivered order {order_id} is known")
    elif order_status is not OrderStatus.DELIVERED:
        problem("order_id", f"order {order_id} is {order_status}, not DELIVERED")
    elif delivered_at is not None and now > delivered_at + timedelta(days=window_days):
        problem(
            "order_id",
            f"order {order_id} was delivered on {delivered_at.date().isoformat()}; returns are "
            f"accepted for {window_days} days",
        )
    skus = [line.sku for line in lines]
    for index, line in enumerate(lines):
        if skus.count(line.sku) > 1 and skus.index(line.sku) != index:
            problem(f"lines.{index}.sku", f"SKU {line.sku} appears on more than one line")
        elif line.sku in already_requested:
            problem(f"lines.{index}.sku", f"SKU {line.sku} already has an open return")
    return problems
