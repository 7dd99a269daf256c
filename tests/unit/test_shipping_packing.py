"""Pick lists batch by courier and priority; the pack station accepts exactly a shipment's units."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time

from chassis.clock import IST
from services.shipping.domain.packing import (
    ScanOutcome,
    ToPick,
    check_scan,
    is_late,
    pick_batches,
    pick_order,
    still_missing,
)

EXPECTED = Counter({"TEA-ASSAM-250": 2, "MUG-STEEL": 1})


def test_a_unit_of_the_shipment_goes_in() -> None:
    assert check_scan(EXPECTED, Counter(), "TEA-ASSAM-250") is ScanOutcome.OK


def test_a_sku_that_is_not_in_the_shipment_is_a_wrong_item() -> None:
    assert check_scan(EXPECTED, Counter(), "KURTA-M") is ScanOutcome.WRONG_ITEM


def test_one_unit_more_than_ordered_is_an_extra_item() -> None:
    assert check_scan(EXPECTED, Counter({"TEA-ASSAM-250": 2}), "TEA-ASSAM-250") is ScanOutcome.EXTRA_ITEM


def test_the_box_is_complete_only_when_every_unit_is_in() -> None:
    assert still_missing(EXPECTED, Counter({"TEA-ASSAM-250": 1})) == {"MUG-STEEL": 1, "TEA-ASSAM-250": 1}
    assert still_missing(EXPECTED, EXPECTED) == {}


def test_pick_batches_group_by_courier_most_urgent_batch_first() -> None:
    waiting = [
        ToPick("S1", "delhivery", 0, (("TEA", 1),)),
        ToPick("S2", "xpressbees", 5, (("TEA", 2),)),
        ToPick("S3", "delhivery", 1, (("TEA", 1), ("MUG", 1))),
    ]

    batches = pick_batches(waiting)

    assert [(b.courier, b.shipment_ids) for b in batches] == [
        ("xpressbees", ("S2",)),
        ("delhivery", ("S3", "S1")),
    ]
    assert batches[1].units == {"MUG": 1, "TEA": 2}


def test_a_big_wave_splits_into_batches_a_picker_can_carry() -> None:
    waiting = [ToPick(f"S{i}", "delhivery", 0, (("TEA", 1),)) for i in range(5)]
    assert [len(b.shipment_ids) for b in pick_batches(waiting, max_per_batch=2)] == [2, 2, 1]


def end_of_ist_day(day: str) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(23, 59, 59), IST)


STANDARD_OVERDUE = ToPick("S-STD", "delhivery", 10, (("TEA", 1),), dispatch_by=end_of_ist_day("2026-12-03"))
EXPRESS_FRESH = ToPick("S-EXP", "delhivery", 110, (("TEA", 1),), dispatch_by=end_of_ist_day("2026-12-07"))


def test_an_overdue_standard_order_is_picked_before_a_fresh_express_one() -> None:
    # Express outranks standard on priority, but the standard order was due three days earlier.
    assert [t.shipment_id for t in pick_order([EXPRESS_FRESH, STANDARD_OVERDUE])] == ["S-STD", "S-EXP"]
    assert pick_batches([EXPRESS_FRESH, STANDARD_OVERDUE])[0].shipment_ids == ("S-STD", "S-EXP")


def test_among_orders_due_the_same_day_higher_priority_goes_first() -> None:
    due = end_of_ist_day("2026-12-07")
    cod = ToPick("S-COD", "delhivery", 0, (), dispatch_by=due)
    prepaid = ToPick("S-PRE", "delhivery", 10, (), dispatch_by=due)
    promise_less = ToPick("S-OLD", "delhivery", 500, ())  # booked before promises were kept
    assert [t.shipment_id for t in pick_order([promise_less, cod, prepaid])] == ["S-PRE", "S-COD", "S-OLD"]


def test_the_batch_of_the_courier_with_the_most_overdue_parcel_comes_first() -> None:
    express_other = ToPick("S-X", "xpressbees", 200, (), dispatch_by=end_of_ist_day("2026-12-05"))
    batches = pick_batches([express_other, EXPRESS_FRESH, STANDARD_OVERDUE])
    assert [(b.courier, b.shipment_ids) for b in batches] == [
        ("delhivery", ("S-STD", "S-EXP")),
        ("xpressbees", ("S-X",)),
    ]


def test_a_parcel_is_late_to_dispatch_only_after_its_promise() -> None:
    due = end_of_ist_day("2026-12-03")
    assert not is_late(due, now=due)
    assert is_late(due, now=datetime(2026, 12, 4, 0, 0, 0, tzinfo=IST))
    assert not is_late(None, now=datetime(2026, 12, 4, 0, 0, 0, tzinfo=IST))
