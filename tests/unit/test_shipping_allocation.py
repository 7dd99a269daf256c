"""Courier allocation over real pincodes and the shipped rate cards: chargeable weight, COD limits,
serviceability, and the seller's policy, with every choice and exclusion explained. Parcels leave
Bhiwandi unless a test says otherwise (to Jaipur that is zone D, rest of India; the zones
themselves are tested in test_geo.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from chassis import geo
from chassis.geo import Zone
from services.shipping import catalogue
from services.shipping.domain import allocation
from services.shipping.domain.allocation import CourierTerms, Dimensions, Parcel, Policy
from services.shipping.settings import DATA

COURIERS = ("delhivery", "shiprocket", "xpressbees")
CARDS, _ = catalogue.parse_rate_cards((DATA / "rate_cards.csv").read_text(), couriers=COURIERS)
RATE_CARDS = {(c.courier, c.zone): c for c in CARDS}
SERVED, _ = catalogue.parse_serviceability((DATA / "serviceability.csv").read_text(), couriers=COURIERS)
TERMS = [
    CourierTerms("delhivery", max_cod_paise=5_000_000),
    CourierTerms("shiprocket", max_cod_paise=5_000_000),
    CourierTerms("xpressbees", max_cod_paise=2_500_000),
]

BHIWANDI, BENGALURU, GURUGRAM = "421302", "560058", "122001"


def served_at(pincode: str) -> dict[str, allocation.Serviceability]:
    return {s.courier: s for s in SERVED if s.pincode == pincode}


def parcel(grams: int = 1000, cod: int = 0, dims: tuple[float, float, float] = (20, 15, 10)) -> Parcel:
    return Parcel(grams, *dims, value_paise=69_800, cod_amount_paise=cod)


def allocate(destination: str, origin: str = BHIWANDI, **kwargs: object) -> allocation.Allocation:
    options: dict[str, object] = {"policy": Policy.CHEAPEST, "promised_days": 5} | kwargs
    box = options.pop("parcel", parcel())
    return allocation.allocate(
        parcel=box,  # type: ignore[arg-type]
        zone=geo.zone(origin, destination),
        couriers=TERMS,
        serviceability=served_at(destination),
        rate_cards=RATE_CARDS,
        **options,  # type: ignore[arg-type]
    )


def test_a_light_but_bulky_box_is_charged_by_its_volume() -> None:
    pillow = parcel(grams=400, dims=(40, 30, 20))  # 24 000 cm³ / 5000 = 4.8 kg

    assert pillow.volumetric_grams == 4800
    assert pillow.chargeable_grams == 4800


def test_a_heavy_small_box_is_charged_by_its_dead_weight() -> None:
    assert parcel(grams=2300, dims=(10, 10, 10)).chargeable_grams == 2300


def test_units_stack_into_one_box_weights_add_up() -> None:
    tea = Dimensions(weight_grams=250, length_cm=12, breadth_cm=8, height_cm=5)
    mug = Dimensions(weight_grams=400, length_cm=10, breadth_cm=10, height_cm=10)

    box = allocation.parcel_for([(tea, 2), (mug, 1)], value_paise=100, cod_amount_paise=0)

    assert (box.dead_weight_grams, box.length_cm, box.breadth_cm, box.height_cm) == (900, 12, 10, 20)


def test_jaipur_prepaid_goes_to_the_cheapest_courier_within_the_promise() -> None:
    decided = allocate("302001")

    assert decided.zone is Zone.REST_OF_INDIA
    assert [c.courier for c in decided.ranked] == ["xpressbees", "shiprocket", "delhivery"]
    first = decided.ranked[0]
    # zone D, 1 kg: first 500 g ₹44 + one more 500 g ₹40
    assert (first.freight_paise, first.cod_charge_paise, first.sla_days) == (8400, 0, 4)
    assert "cheapest within the promise" in first.reason


def test_an_express_promise_skips_the_cheap_slow_courier() -> None:
    decided = allocate("302001", promised_days=4)

    assert [c.courier for c in decided.ranked] == ["xpressbees", "delhivery", "shiprocket"]
    assert "misses the 4-day promise" in decided.ranked[-1].reason


def test_cod_charge_is_the_larger_of_fixed_and_percentage() -> None:
    small = allocate("302001", parcel=parcel(cod=69_800)).ranked[0]
    large = allocate("302001", parcel=parcel(cod=2_000_000)).ranked[0]

    assert small.cod_charge_paise == 2700  # 1.5% of ₹698 is ₹10.47 < ₹27 fixed
    assert large.cod_charge_paise == 30_000  # 1.5% of ₹20 000


def test_cod_over_a_couriers_limit_goes_to_another_courier() -> None:
    decided = allocate("302001", parcel=parcel(cod=3_000_000))

    assert "xpressbees" not in [c.courier for c in decided.ranked]
    assert "over its limit" in decided.excluded["xpressbees"]


def test_a_courier_without_cod_at_the_pincode_is_excluded_for_cod_only() -> None:
    cod = allocate("682001", origin=BENGALURU, parcel=parcel(cod=50_000))
    prepaid = allocate("682001", origin=BENGALURU)

    assert cod.excluded["xpressbees"] == "no COD at this pincode"
    assert "xpressbees" in [c.courier for c in prepaid.ranked]


def test_srinagar_is_served_by_delhivery_alone_and_not_for_cod() -> None:
    prepaid = allocate("190001")
    cod = allocate("190001", parcel=parcel(cod=10_000))

    assert [c.courier for c in prepaid.ranked] == ["delhivery"]
    assert prepaid.excluded == {
        "shiprocket": "does not serve this pincode",
        "xpressbees": "does not serve this pincode",
    }
    assert cod.ranked == ()


def test_fastest_policy_puts_the_shortest_sla_first() -> None:
    decided = allocate("110001", origin=GURUGRAM, policy=Policy.FASTEST)

    assert decided.zone is Zone.WITHIN_CITY
    assert decided.ranked[0].courier == "delhivery"  # 1 day in zone A
    assert "fastest first" in decided.ranked[0].reason


def test_priority_policy_follows_the_sellers_order_but_keeps_serviceability() -> None:
    decided = allocate(
        "781001", origin=BENGALURU, policy=Policy.PRIORITY, priority=("shiprocket", "delhivery")
    )

    assert [c.courier for c in decided.ranked] == ["delhivery", "xpressbees"]
    assert decided.excluded["shiprocket"] == "does not serve this pincode"


def test_reverse_pickup_needs_a_courier_that_picks_up_there() -> None:
    decided = allocate("781001", origin=BENGALURU, reverse=True)

    assert [c.courier for c in decided.ranked] == ["delhivery"]
    assert decided.excluded["xpressbees"] == "no reverse pickup at this pincode"


def test_the_decision_is_stored_with_its_reasons() -> None:
    stored = allocate("190001").as_dict()

    assert stored["zone"] == "E"
    assert stored["ranked"][0]["courier"] == "delhivery"
    assert stored["excluded"]["xpressbees"] == "does not serve this pincode"


def test_a_rate_card_line_with_a_bad_zone_and_slab_names_both() -> None:
    text = "\n".join([",".join(catalogue.RATE_CARD_COLUMNS), "delhivery,F,0,3000,500,2800,3500,175,1"])

    rows, problems = catalogue.parse_rate_cards(text, couriers=COURIERS)

    assert rows == []
    assert ("line 2.zone", "'F' is not one of A, B, C, D, E") in problems
    assert ("line 2.first_slab_grams", "must be at least 1") in problems


def test_serviceability_for_a_pincode_that_does_not_exist_is_refused() -> None:
    text = "courier,pincode,prepaid,cod,reverse_pickup\ndelhivery,999999,true,maybe,true"

    _, problems = catalogue.parse_serviceability(text, couriers=COURIERS)

    assert ("line 2.pincode", "'999999' is not an Indian pincode") in problems
    assert ("line 2.cod", "'maybe' is not true or false") in problems


def test_serviceability_says_where_a_courier_picks_up_when_the_file_has_a_pickup_column() -> None:
    header = "courier,pincode,prepaid,cod,reverse_pickup"
    with_pickup = (
        f"{header},pickup\nxpressbees,560058,true,true,true,true\nxpressbees,302019,true,true,true,no"
    )

    rows, problems = catalogue.parse_serviceability(with_pickup, couriers=COURIERS)
    old_file, _ = catalogue.parse_serviceability(
        f"{header}\nxpressbees,560058,true,true,true", couriers=COURIERS
    )

    assert problems == []
    assert [(r.pincode, r.pickup) for r in rows] == [("560058", True), ("302019", False)]
    assert [r.pickup for r in old_file] == [None]  # says nothing of pickup (ADR 0410)


def test_a_courier_that_does_not_pick_up_at_the_warehouse_is_not_booked_from_it() -> None:
    # ADR 0410: in the demo data no courier collects in Guwahati; Bhiwandi is collected from.
    guwahati, jaipur = "781001", "302001"

    from_guwahati = allocate(jaipur, origin=guwahati, collects_at=served_at(guwahati))
    from_bhiwandi = allocate(jaipur, collects_at=served_at(BHIWANDI))

    assert from_guwahati.ranked == ()
    assert set(from_guwahati.excluded.values()) == {"does not pick up at the warehouse's pincode"}
    assert {c.courier for c in from_bhiwandi.ranked} == {"delhivery", "shiprocket", "xpressbees"}


def test_a_courier_whose_data_says_nothing_of_pickup_is_booked_from_any_warehouse() -> None:
    text = "courier,pincode,prepaid,cod,reverse_pickup\ndelhivery,302001,true,true,true"
    rows, _ = catalogue.parse_serviceability(text, couriers=COURIERS)

    chosen = allocation.allocate(
        parcel=parcel(),
        zone=geo.zone("781001", "302001"),
        couriers=TERMS,
        serviceability={r.courier: r for r in rows},
        rate_cards=RATE_CARDS,
        policy=Policy.CHEAPEST,
        collects_at={},
    )

    assert [c.courier for c in chosen.ranked] == ["delhivery"]


def test_a_pickup_flag_that_is_not_true_or_false_names_its_line_and_loads_nothing() -> None:
    text = "courier,pincode,prepaid,cod,reverse_pickup,pickup\nxpressbees,560058,true,true,true,often"

    rows, problems = catalogue.parse_serviceability(text, couriers=COURIERS)

    assert rows == []
    assert problems == [("line 2.pickup", "'often' is not true or false")]


# courier pickup capacity -------------------------------------------------------------------------

DIWALI_EVE = date(2026, 11, 7)


def test_a_courier_whose_pickup_is_full_is_excluded_and_the_next_one_ranks_first() -> None:
    cheapest = allocate("302001").ranked[0].courier
    capacities = [
        allocation.PickupCapacity(cheapest, DIWALI_EVE, parcels=40, booked=40),
        allocation.PickupCapacity(
            "delhivery" if cheapest != "delhivery" else "shiprocket", DIWALI_EVE, 40, 39
        ),
    ]

    decided = allocate("302001", full_for_pickup=allocation.at_capacity(capacities))

    assert cheapest not in [c.courier for c in decided.ranked]
    assert decided.excluded[cheapest] == "pickup capacity full on 2026-11-07: 40 of 40 parcels booked"
    assert len(decided.ranked) == len(allocate("302001").ranked) - 1, "one place left is not full"


def test_a_capacity_of_zero_closes_the_courier_s_pickup_that_day() -> None:
    assert allocation.at_capacity([allocation.PickupCapacity("xpressbees", DIWALI_EVE, 0, 0)]) == {
        "xpressbees": "pickup capacity full on 2026-11-07: 0 of 0 parcels booked"
    }


def test_the_pickup_day_is_the_dispatch_by_day_in_india_or_today_once_it_has_passed() -> None:
    now = datetime(2026, 11, 6, 20, 0, tzinfo=UTC)  # already 7 November 01:30 in India
    saturday_night_ist = datetime(2026, 11, 7, 18, 29, 59, tzinfo=UTC)  # 23:59:59 IST, 7 November
    assert allocation.pickup_day(saturday_night_ist, now=now) == date(2026, 11, 7)
    assert allocation.pickup_day(datetime(2026, 11, 10, 18, 29, tzinfo=UTC), now=now) == date(2026, 11, 10)
    assert allocation.pickup_day(datetime(2026, 11, 1, tzinfo=UTC), now=now) == date(2026, 11, 7), "late"
    assert allocation.pickup_day(None, now=now) == date(2026, 11, 7)


def test_the_morning_report_alerts_couriers_nearly_full_full_or_over_and_never_an_unlimited_one() -> None:
    diwali = date(2026, 11, 7)
    pickups = [
        ("xpressbees", "GGN1", 90, 100),  # nine in ten taken
        ("delhivery", "GGN1", 89, 100),  # room enough
        ("shiprocket", "GGN1", 40, 40),
        ("xpressbees", "BOM1", 12, 10),  # lowered after bookings
        ("delhivery", "BOM1", 500, None),  # no capacity confirmed: not limited
    ]

    warnings = allocation.pickup_warnings(pickups, day=diwali)

    assert warnings == [
        "xpressbees at GGN1 on 2026-11-07: nearly full, 90 of 100 parcels booked",
        "shiprocket at GGN1 on 2026-11-07: full, 40 of 40 parcels booked",
        "xpressbees at BOM1 on 2026-11-07: over capacity, 12 of 10 parcels booked",
    ]
