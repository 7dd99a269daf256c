"""Pick lists batch by courier and priority; the pack station accepts exactly a shipment's units."""

from __future__ import annotations

from collections import Counter

from services.shipping.packing import ScanOutcome, ToPick, check_scan, pick_batches, still_missing

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
