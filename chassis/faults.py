"""Named fault points for crash tests: a process told to stop at one freezes there to be killed.

DABBA_FAULTS="outbox.after_publish" makes the relay freeze after the broker acknowledged and before
the rows are marked sent, so a test can SIGKILL it at exactly that moment. DABBA_FAULT_MATCH narrows
a point to work that mentions one string (an order id, a channel order id), so unrelated traffic
passes through untouched.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from functools import cache

from chassis.logging import get_logger

log = get_logger(__name__)

POINTS = (
    "consumer.before_commit",
    "consumer.after_commit",
    "outbox.after_publish",
    "notifications.after_send",  # the provider accepted a message, nothing is recorded yet
    "returns.after_refund_call",  # Razorpay refunded (or paid out), the answer is not recorded yet
    "channels.intake.before_commit",  # store orders and their events written, not yet committed
)


@cache
def _armed_points() -> frozenset[str]:
    return frozenset(p.strip() for p in os.environ.get("DABBA_FAULTS", "").split(",") if p.strip())


def armed(point: str, mentions: Callable[[], Iterable[str]] = tuple) -> bool:
    """Whether the point is armed for this work; ``mentions`` is only called when it is armed."""
    if point not in POINTS:
        raise ValueError(f"unknown fault point {point!r}: add it to chassis.faults.POINTS")
    if point not in _armed_points():
        return False
    match = os.environ.get("DABBA_FAULT_MATCH")
    return not match or any(match in m for m in mentions())


async def freeze_if_armed(point: str, mentions: Callable[[], Iterable[str]] = tuple) -> None:
    """Log that the point is reached and wait forever, if armed; return at once otherwise."""
    if not armed(point, mentions):
        return
    log.warning("fault point reached, freezing", fault_point=point)
    await asyncio.Event().wait()
