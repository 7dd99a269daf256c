"""The order and payment machines, pair by pair: every allowed move and every refused one.

The expected tables are written out here as the seller would say them, so a change to the service's
tables is a deliberate change to this story too.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from contracts import OrderStatus, PaymentMethod, PaymentStatus
from services.orders import domain
from services.orders.lifecycle import implied

S = OrderStatus
P = PaymentStatus

BEFORE_CONFIRMATION = {S.PLACED, S.PENDING_PAYMENT, S.PENDING_COD_CONFIRMATION, S.ON_HOLD, S.BACKORDERED}
ON_THE_ROAD = [S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.PARTIALLY_DELIVERED, S.DELIVERED]

ALLOWED: set[tuple[OrderStatus, OrderStatus]] = {
    # placed: stock is being reserved; then payment, COD confirmation, review or straight on
    *((S.PLACED, t) for t in (S.PENDING_PAYMENT, S.PENDING_COD_CONFIRMATION, S.ON_HOLD, S.CONFIRMED)),
    (S.PLACED, S.BACKORDERED),
    *((s, S.CONFIRMED) for s in (S.PENDING_PAYMENT, S.PENDING_COD_CONFIRMATION, S.ON_HOLD)),
    *((s, S.ON_HOLD) for s in (S.PENDING_PAYMENT, S.PENDING_COD_CONFIRMATION, S.BACKORDERED)),
    # a hold is released to where the order would have been
    *((S.ON_HOLD, t) for t in (S.PLACED, S.PENDING_PAYMENT, S.PENDING_COD_CONFIRMATION)),
    (S.BACKORDERED, S.PLACED),
    # its stock arrived: on to where it would have gone (ADR 0301)
    *((S.BACKORDERED, t) for t in (S.PENDING_PAYMENT, S.PENDING_COD_CONFIRMATION, S.CONFIRMED)),
    # cancel until it leaves the warehouse
    *((s, S.CANCELLED) for s in (*BEFORE_CONFIRMATION, S.CONFIRMED, S.PACKED)),
    # shipments move it forward, possibly skipping what was reported late
    *((S.CONFIRMED, t) for t in (S.PACKED, S.PARTIALLY_SHIPPED, *ON_THE_ROAD)),
    *((S.PACKED, t) for t in (S.PARTIALLY_SHIPPED, *ON_THE_ROAD)),
    *((S.PARTIALLY_SHIPPED, t) for t in ON_THE_ROAD),
    *((S.SHIPPED, t) for t in ON_THE_ROAD[1:]),
    *((S.IN_TRANSIT, t) for t in ON_THE_ROAD[2:]),
    *((S.OUT_FOR_DELIVERY, t) for t in ON_THE_ROAD[3:]),
    (S.PARTIALLY_DELIVERED, S.DELIVERED),
    # NDR: a failed attempt, then out again, delivered, or back to origin
    *((s, S.DELIVERY_FAILED) for s in (S.PARTIALLY_SHIPPED, *ON_THE_ROAD[:4])),
    *((S.DELIVERY_FAILED, t) for t in (S.OUT_FOR_DELIVERY, S.PARTIALLY_DELIVERED, S.DELIVERED)),
    *((s, S.RTO_INITIATED) for s in (S.PARTIALLY_SHIPPED, *ON_THE_ROAD[:4], S.DELIVERY_FAILED)),
    (S.RTO_INITIATED, S.RTO_DELIVERED),
    # returns, refunds
    (S.DELIVERED, S.RETURN_REQUESTED),
    (S.PARTIALLY_DELIVERED, S.RETURN_REQUESTED),
    (S.RETURN_REQUESTED, S.PARTIALLY_RETURNED),
    (S.RETURN_REQUESTED, S.RETURNED),
    (S.RETURN_REQUESTED, S.DELIVERED),
    (S.PARTIALLY_RETURNED, S.RETURN_REQUESTED),
    (S.PARTIALLY_RETURNED, S.RETURNED),
    (S.RETURNED, S.REFUNDED),
    # an operator fixed a refused order
    (S.REJECTED, S.PLACED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)), ids=lambda s: s.value)
def test_every_order_move_is_allowed_or_refused_as_the_story_says(current: S, target: S) -> None:
    assert domain.can_transition(current, target) is ((current, target) in ALLOWED)


def test_cancelled_rejected_refunded_and_rto_delivered_are_final_except_a_fixed_rejection() -> None:
    for final in (S.CANCELLED, S.REFUNDED, S.RTO_DELIVERED):
        assert not any(domain.can_transition(final, t) for t in S)
    assert [t for t in S if domain.can_transition(S.REJECTED, t)] == [S.PLACED]


def test_an_order_can_be_cancelled_exactly_until_it_leaves_the_warehouse() -> None:
    assert domain.BEFORE_DISPATCH == {*BEFORE_CONFIRMATION, S.CONFIRMED, S.PACKED}


PAYMENT_ALLOWED = {
    PaymentMethod.UPI: {
        (P.PENDING, P.AUTHORIZED),
        (P.PENDING, P.CAPTURED),
        (P.PENDING, P.FAILED),
        (P.FAILED, P.AUTHORIZED),
        (P.FAILED, P.CAPTURED),
        (P.AUTHORIZED, P.CAPTURED),
        (P.AUTHORIZED, P.FAILED),
        (P.AUTHORIZED, P.REFUNDED),
        (P.CAPTURED, P.PARTIALLY_REFUNDED),
        (P.CAPTURED, P.REFUNDED),
        (P.PARTIALLY_REFUNDED, P.PARTIALLY_REFUNDED),
        (P.PARTIALLY_REFUNDED, P.REFUNDED),
    },
    PaymentMethod.COD: {
        (P.PENDING, P.COD_CONFIRMED),
        (P.PENDING, P.COD_DECLINED),
        (P.COD_CONFIRMED, P.COD_DECLINED),
        (P.COD_CONFIRMED, P.COLLECTED),
        (P.COLLECTED, P.PARTIALLY_REFUNDED),
        (P.COLLECTED, P.REFUNDED),
        (P.PARTIALLY_REFUNDED, P.PARTIALLY_REFUNDED),
        (P.PARTIALLY_REFUNDED, P.REFUNDED),
    },
}


@pytest.mark.parametrize("method", [PaymentMethod.UPI, PaymentMethod.COD])
@pytest.mark.parametrize(("current", "target"), list(itertools.product(P, P)), ids=lambda s: s.value)
def test_every_payment_move_is_allowed_or_refused_per_method(
    method: PaymentMethod, current: P, target: P
) -> None:
    assert domain.can_pay(method, current, target) is ((current, target) in PAYMENT_ALLOWED[method])


def test_card_wallet_and_netbanking_follow_the_prepaid_table() -> None:
    for method in (PaymentMethod.CARD, PaymentMethod.WALLET, PaymentMethod.NETBANKING):
        for current, target in itertools.product(P, P):
            upi = domain.can_pay(PaymentMethod.UPI, current, target)
            assert domain.can_pay(method, current, target) is upi


def test_a_move_sets_why_an_order_is_held_and_when_a_cod_reply_is_due_and_clears_them_after() -> None:
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)

    def moved(current: S, to: S, held_for: str | None = None) -> object:
        return implied(current, to, held_for=held_for, now=now, cod_hours=24.0)

    assert moved(S.PLACED, S.ON_HOLD, "review") == {"status": S.ON_HOLD, "held_for": "review"}
    assert moved(S.ON_HOLD, S.PLACED, "review") == {"status": S.PLACED, "held_for": None}
    assert moved(S.PLACED, S.PENDING_COD_CONFIRMATION) == {
        "status": S.PENDING_COD_CONFIRMATION,
        "cod_confirm_by": now + timedelta(hours=24),
    }
    assert moved(S.PENDING_COD_CONFIRMATION, S.CONFIRMED) == {"status": S.CONFIRMED, "cod_confirm_by": None}
    assert moved(S.PLACED, S.CONFIRMED) == {"status": S.CONFIRMED}
