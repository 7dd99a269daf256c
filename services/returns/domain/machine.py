"""The return status machine as data, and the short ids customers read out on the phone."""

from __future__ import annotations

import secrets

from contracts import ReturnStatus

R = ReturnStatus

TRANSITIONS: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    R.REQUESTED: frozenset({R.APPROVED, R.REJECTED}),
    # A drop-off (or an RTO parcel) reaches the desk without a pickup; a pickup scan may arrive
    # before shipping's "scheduled" event, and the desk may receive before the last scan.
    R.APPROVED: frozenset({R.PICKUP_SCHEDULED, R.PICKED_UP, R.RECEIVED}),
    R.REJECTED: frozenset({R.CLOSED}),
    R.PICKUP_SCHEDULED: frozenset({R.PICKED_UP, R.RECEIVED}),
    R.PICKED_UP: frozenset({R.RECEIVED}),
    R.RECEIVED: frozenset({R.QC_PASSED, R.QC_FAILED}),
    R.QC_PASSED: frozenset({R.RESTOCKED}),
    R.QC_FAILED: frozenset({R.QUARANTINED}),
    R.RESTOCKED: frozenset({R.REFUND_PENDING, R.EXCHANGE_PLACED, R.CLOSED}),
    R.QUARANTINED: frozenset({R.REFUND_PENDING, R.EXCHANGE_PLACED, R.CLOSED}),
    R.REFUND_PENDING: frozenset({R.REFUNDED}),
    R.REFUNDED: frozenset({R.CLOSED}),
    R.EXCHANGE_PLACED: frozenset({R.CLOSED}),
    R.CLOSED: frozenset(),
}
"""Allowed return status changes: DESIGN.md's return machine, as data."""

OPEN_STATUSES = frozenset(TRANSITIONS) - {R.REJECTED, R.CLOSED}
"""A return in one of these still holds its SKUs: they cannot be requested again."""

_ORDER = [
    R.REQUESTED,
    R.APPROVED,
    R.PICKUP_SCHEDULED,
    R.PICKED_UP,
    R.RECEIVED,
    R.QC_PASSED,
    R.QC_FAILED,
    R.RESTOCKED,
    R.QUARANTINED,
    R.REFUND_PENDING,
    R.REFUNDED,
    R.EXCHANGE_PLACED,
    R.CLOSED,
]
_RANK = {status: rank for rank, status in enumerate(_ORDER)}


class IllegalTransition(ValueError):
    """A status change the return machine does not allow."""


def advance(current: ReturnStatus, target: ReturnStatus) -> ReturnStatus:
    """The new status; raises IllegalTransition unless current → target is allowed."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"a return cannot go from {current} to {target}")
    return target


def is_behind(current: ReturnStatus, reported: ReturnStatus) -> bool:
    """Whether a courier's report is already behind the return (late or repeated scans are ignored)."""
    return current is R.REJECTED or _RANK[reported] <= _RANK[current]


_RMA_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread


def new_return_id() -> str:
    """A short id a customer can read out on the phone, such as RMA-7K2Q9D."""
    return "RMA-" + "".join(secrets.choice(_RMA_ALPHABET) for _ in range(6))


def new_refund_id(return_id: str) -> str:
    """Our id of a return's refund; also the root of the gateway idempotency key."""
    return "RFD-" + return_id.removeprefix("RMA-") + "-" + secrets.token_hex(3).upper()
