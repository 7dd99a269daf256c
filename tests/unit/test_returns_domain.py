"""Return eligibility and the return machine: only delivered orders, within the window, once per SKU."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from contracts import OrderStatus, ReturnLine, ReturnReason, ReturnStatus
from services.returns import domain

R = ReturnStatus
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def damaged_tea(sku: str = "TEA-ASSAM-250") -> ReturnLine:
    return ReturnLine(sku=sku, quantity=1, reason=ReturnReason.DAMAGED, note="Seal torn")


def problems(
    *,
    status: OrderStatus | None = OrderStatus.DELIVERED,
    delivered_days_ago: int = 2,
    lines: list[ReturnLine] | None = None,
    already_requested: frozenset[str] = frozenset(),
):
    return domain.eligibility_problems(
        order_id="ORD-1",
        order_status=status,
        delivered_at=NOW - timedelta(days=delivered_days_ago) if status else None,
        now=NOW,
        window_days=7,
        lines=lines or [damaged_tea()],
        already_requested=already_requested,
    )


def test_a_delivered_order_can_be_returned():
    assert problems() == []


def test_an_order_still_in_transit_cannot_be_returned_and_says_why():
    (problem,) = problems(status=OrderStatus.IN_TRANSIT)

    assert problem.field == "order_id"
    assert "IN_TRANSIT" in problem.problem
    assert "DELIVERED" in problem.problem


def test_an_order_we_never_heard_of_cannot_be_returned():
    (problem,) = problems(status=None)

    assert problem.field == "order_id"
    assert "ORD-1" in problem.problem


def test_a_return_after_the_window_is_refused():
    (problem,) = problems(delivered_days_ago=8)

    assert "7 days" in problem.problem


def test_a_sku_already_being_returned_cannot_be_requested_again():
    (problem,) = problems(
        lines=[damaged_tea("KURTA-M"), damaged_tea()], already_requested=frozenset({"TEA-ASSAM-250"})
    )

    assert problem.field == "lines.1.sku"


def test_one_sku_on_two_lines_is_refused():
    (problem,) = problems(lines=[damaged_tea(), damaged_tea()])

    assert problem.field == "lines.1.sku"


def test_a_split_order_returns_what_has_arrived_and_says_what_has_not():
    def asking_for(line: ReturnLine) -> list[tuple[str, str]]:
        problems = domain.eligibility_problems(
            order_id="ORD-1",
            order_status=OrderStatus.PARTIALLY_DELIVERED,
            delivered_at=NOW - timedelta(days=1),
            now=NOW,
            window_days=7,
            lines=[line],
            already_requested=frozenset(),
            delivered={"TEA-ASSAM-250": 1},  # the tea's parcel arrived, the kurta's is on the road
            ordered={"TEA-ASSAM-250": 1, "KURTA-M": 1},
        )
        return [(p.field, p.problem) for p in problems]

    assert asking_for(damaged_tea()) == []
    assert asking_for(ReturnLine(sku="KURTA-M", quantity=1, reason=ReturnReason.SIZE_ISSUE)) == [
        ("lines.0.sku", "SKU KURTA-M of order ORD-1 has not been delivered yet")
    ]


def test_rma_ids_are_short_and_readable_on_the_phone():
    rma = domain.new_return_id()

    assert len(rma) == len("RMA-XXXXXX")
    assert rma.startswith("RMA-")
    assert not set(rma[4:]) & set("ILOU")


def test_a_refund_return_walks_the_whole_machine():
    path = [
        R.REQUESTED,
        R.APPROVED,
        R.PICKUP_SCHEDULED,
        R.PICKED_UP,
        R.RECEIVED,
        R.QC_PASSED,
        R.RESTOCKED,
        R.REFUND_PENDING,
        R.REFUNDED,
        R.CLOSED,
    ]

    for current, target in itertools.pairwise(path):
        assert domain.advance(current, target) is target


def test_a_return_cannot_be_refunded_before_it_is_received():
    with pytest.raises(domain.IllegalTransition):
        domain.advance(R.APPROVED, R.REFUNDED)


def test_a_failed_qc_item_is_not_restocked():
    with pytest.raises(domain.IllegalTransition):
        domain.advance(R.QC_FAILED, R.RESTOCKED)


def test_every_return_status_has_a_row_in_the_machine():
    assert set(domain.TRANSITIONS) == set(ReturnStatus)
