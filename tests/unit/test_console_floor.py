"""The fulfilment screen decides purely (ADR 380): shipping's pick-list preview shown with each
parcel's order and lines and the late ones marked, a taken list grouped per courier in shipping's
order with the units to pull, which parcels of ticked orders get labels or go on a manifest, and the
day a manifest asks the courier to come."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.console.domain.floor import (
    Parcel,
    by_courier,
    labels_for,
    manifests_for,
    pickup_day,
    preview,
    ticked_ids,
)
from services.console.domain.view import OrderView, ShipmentView

AT = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def parcel(sid: str, courier: str = "delhivery", **lines: int) -> Parcel:
    return Parcel(
        sid, f"ORD-{sid}", f"SHP-{sid}", courier, f"AWB-{sid}", "AWB_ASSIGNED", tuple(lines.items())
    )


def test_the_preview_keeps_shippings_order_marks_late_parcels_and_shows_an_unseen_one_by_id() -> None:
    batches = [
        {"courier": "delhivery", "shipment_ids": ["S2", "S1"], "units": {"TEA": 3, "MUG": 1}},
        {"courier": "bluedart", "shipment_ids": ["S3"], "units": {"TEA": 1}},
    ]
    known = {"S1": parcel("S1", TEA=2), "S2": parcel("S2", TEA=1, MUG=1)}
    shown = preview(batches, ["S2"], known)

    assert [(b.courier, [p.shipment_id for p in b.parcels]) for b in shown] == [
        ("delhivery", ["S2", "S1"]),
        ("bluedart", ["S3"]),
    ]
    assert [p.late for p in shown[0].parcels] == [True, False]
    assert shown[0].units == (("MUG", 1), ("TEA", 3)) and shown[0].total_units == 4
    unseen = shown[1].parcels[0]
    assert (unseen.order_id, unseen.courier, unseen.lines, unseen.late) == ("", "bluedart", (), False)


def test_a_taken_list_groups_parcels_per_courier_in_shippings_order_with_units_to_pull() -> None:
    parcels = [parcel("A", TEA=1), parcel("B", "bluedart", MUG=2), parcel("C", TEA=2, MUG=1)]
    batches = by_courier(parcels, order=["C", "B", "A"])
    assert [(b.courier, [p.shipment_id for p in b.parcels], b.units) for b in batches] == [
        ("delhivery", ["C", "A"], (("MUG", 1), ("TEA", 3))),
        ("bluedart", ["B"], (("MUG", 2),)),
    ]


def test_ticked_parcels_are_taken_once_each_and_none_or_too_many_is_named() -> None:
    assert ticked_ids(["S1", " S2 ", "S1", ""]) == (["S1", "S2"], [])
    assert ticked_ids([]) == ([], [("shipment_id", "tick at least one parcel")])
    assert ticked_ids(["a", "b", "c"], limit=2) == ([], [("shipment_id", "tick at most 2 parcels at once")])


def view(order_id: str, *shipments: ShipmentView) -> OrderView:
    return OrderView(order_id=order_id, first_seen_at=AT, updated_at=AT, shipments=shipments)


def test_labels_are_for_booked_parcels_still_in_the_warehouse_and_an_order_without_one_is_named() -> None:
    views = [
        view("O1", ShipmentView("S1", "BLR1", "delhivery", "AWB1", "PACKED")),
        view("O2", ShipmentView("S2", "BLR1", "delhivery", None, "CREATED")),
        view("O3", ShipmentView("S3", "BLR1", "delhivery", "AWB3", "DELIVERED")),
    ]
    ids, problems = labels_for(views, ["O1", "O2", "O3", "O4"])
    assert ids == ["S1"]
    assert [order_id for order_id, _ in problems] == ["O2", "O3", "O4"]


def test_a_manifest_is_asked_per_warehouse_and_courier_of_the_ticked_orders_packed_parcels() -> None:
    views = [
        view("O1", ShipmentView("S1", "BLR1", "delhivery", "A1", "PACKED")),
        view(
            "O2",
            ShipmentView("S2", "BLR1", "delhivery", "A2", "PACKED"),
            ShipmentView("S3", "GGN1", "bluedart", "A3", "PACKED"),
        ),
        view("O3", ShipmentView("S4", "BLR1", "delhivery", "A4", "PICKED")),
    ]
    pickups, problems = manifests_for(views, ["O1", "O2", "O3"])
    assert pickups == [("BLR1", "delhivery"), ("GGN1", "bluedart")]
    assert problems == [("O3", "no packed parcel waiting for a manifest")]


def test_a_manifest_made_after_midnight_in_india_books_that_indian_day() -> None:
    assert pickup_day(datetime(2026, 12, 6, 19, 0, tzinfo=UTC)) == date(2026, 12, 7)  # 00:30 IST
    assert pickup_day(datetime(2026, 12, 6, 18, 0, tzinfo=UTC)) == date(2026, 12, 6)  # 23:30 IST
