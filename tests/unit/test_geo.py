"""Courier zones and distances between real Indian pincodes (chassis.geo): the one definition
routing ranks warehouses by and shipping prices couriers by."""

from __future__ import annotations

import pytest

from chassis import geo
from chassis.geo import Zone

BHIWANDI, BENGALURU, GURUGRAM = "421302", "560058", "122001"


@pytest.mark.parametrize(
    ("origin", "destination", "expected"),
    [
        ("302001", "302017", Zone.WITHIN_CITY),  # two Jaipur pincodes
        (BHIWANDI, "400001", Zone.WITHIN_CITY),  # Bhiwandi (Thane) serves Mumbai as one city
        (GURUGRAM, "110001", Zone.WITHIN_CITY),  # Gurugram and New Delhi: one NCR
        (GURUGRAM, "201301", Zone.WITHIN_CITY),  # Gurugram (Haryana) and Noida (UP): still NCR
        (BENGALURU, "560001", Zone.WITHIN_CITY),
        ("500001", "500050", Zone.WITHIN_CITY),  # Hyderabad and Ranga Reddy
        ("700001", "700120", Zone.WITHIN_CITY),  # Kolkata and North 24 Parganas
        ("190001", "190001", Zone.WITHIN_CITY),  # inside Srinagar the parcel never leaves the city
        (BHIWANDI, "411001", Zone.WITHIN_REGION),  # Thane → Pune: same state, though both metros
        (GURUGRAM, "302001", Zone.WITHIN_REGION),  # Gurugram → Jaipur: both North
        (BENGALURU, "682001", Zone.WITHIN_REGION),  # Bengaluru → Kochi: both South
        ("400001", "110001", Zone.METRO_TO_METRO),
        ("560001", "600001", Zone.METRO_TO_METRO),
        ("700001", "500001", Zone.METRO_TO_METRO),
        ("380001", "560001", Zone.METRO_TO_METRO),  # Ahmedabad → Bengaluru
        (BHIWANDI, "302001", Zone.REST_OF_INDIA),  # Bhiwandi → Jaipur
        (BENGALURU, "302001", Zone.REST_OF_INDIA),
        (BHIWANDI, "781001", Zone.SPECIAL),  # Guwahati: North-East
        (GURUGRAM, "190001", Zone.SPECIAL),  # Srinagar: J&K
        (GURUGRAM, "194101", Zone.SPECIAL),  # Leh: Ladakh
        (BENGALURU, "744101", Zone.SPECIAL),  # Port Blair: the islands
        ("781001", "302001", Zone.SPECIAL),  # shipping *from* the North-East costs the same
    ],
)
def test_courier_zones_between_real_pincodes(origin: str, destination: str, expected: Zone) -> None:
    assert geo.zone(origin, destination) is expected
    assert geo.zone(destination, origin) is expected, "a zone is the same both ways (reverse pickups)"


def test_zones_carry_the_rate_card_letter_and_are_ordered_by_cost() -> None:
    assert [z.value for z in Zone] == ["A", "B", "C", "D", "E"]
    assert [z.cost_rank for z in Zone] == [0, 1, 2, 3, 4]
    assert Zone("D") is Zone.REST_OF_INDIA and Zone.REST_OF_INDIA.label == "rest of India"


def test_delhi_district_names_do_not_make_other_states_part_of_ncr() -> None:
    assert geo.place("110001").metro == "Delhi NCR"
    assert geo.place("302001").metro is None
    assert all(geo.place(p).metro is None for p in ("682001", "781001"))


def test_a_pincode_that_does_not_exist_is_named() -> None:
    with pytest.raises(ValueError, match="pincode 999999 does not exist"):
        geo.zone(GURUGRAM, "999999")


def test_distances_are_great_circle_kilometres() -> None:
    jaipur, gurugram = geo.coordinates("302001"), geo.coordinates(GURUGRAM)
    mumbai, delhi = geo.coordinates("400001"), geo.coordinates("110001")
    assert jaipur and gurugram and mumbai and delhi
    assert 200 < geo.distance_km(jaipur, gurugram) < 260
    assert 1100 < geo.distance_km(mumbai, delhi) < 1200
    assert geo.distance_km(mumbai, mumbai) == 0
