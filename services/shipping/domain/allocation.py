"""Courier allocation as plain functions: chargeable weight, rate cards, policy, over the courier zone
of chassis.geo (the same zones routing ranks warehouses by).

Every candidate courier ends up either ranked (with its price, SLA and why it ranks there) or
excluded (with why), so an operator can read the decision back from the shipment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from chassis.clock import india_date
from chassis.geo import Zone

VOLUMETRIC_DIVISOR = 5000
"""cm³ per kg that couriers in India use for surface and air express: L×B×H/5000."""


class Policy(StrEnum):
    """How to pick among the couriers that can carry a parcel."""

    CHEAPEST = "cheapest"
    """The cheapest courier whose SLA meets the promised delivery days (fastest if none does)."""
    FASTEST = "fastest"
    """The shortest SLA; price breaks ties."""
    PRIORITY = "priority"
    """The seller's own order of couriers; serviceability and COD limits still apply."""


@dataclass(frozen=True, slots=True)
class Parcel:
    """The box to ship: dead weight in grams, dimensions in cm, value and COD in paise."""

    dead_weight_grams: int
    length_cm: float
    breadth_cm: float
    height_cm: float
    value_paise: int
    cod_amount_paise: int

    @property
    def volumetric_grams(self) -> int:
        return math.ceil(self.length_cm * self.breadth_cm * self.height_cm / VOLUMETRIC_DIVISOR * 1000)

    @property
    def chargeable_grams(self) -> int:
        """What couriers bill: the larger of dead and volumetric weight."""
        return max(self.dead_weight_grams, self.volumetric_grams)


@dataclass(frozen=True, slots=True)
class Dimensions:
    """Per-unit weight and size of a SKU."""

    weight_grams: int
    length_cm: float
    breadth_cm: float
    height_cm: float


def parcel_for(units: list[tuple[Dimensions, int]], *, value_paise: int, cod_amount_paise: int) -> Parcel:
    """One box holding these units: weights add up, the units stack on the largest footprint."""
    if not units:
        raise ValueError("a parcel needs at least one unit")
    return Parcel(
        dead_weight_grams=sum(d.weight_grams * qty for d, qty in units),
        length_cm=max(d.length_cm for d, _ in units),
        breadth_cm=max(d.breadth_cm for d, _ in units),
        height_cm=sum(d.height_cm * qty for d, qty in units),
        value_paise=value_paise,
        cod_amount_paise=cod_amount_paise,
    )


@dataclass(frozen=True, slots=True)
class RateCard:
    """One courier's price and SLA for one zone: a first weight slab, then additional slabs."""

    courier: str
    zone: Zone
    first_slab_grams: int
    first_slab_paise: int
    additional_slab_grams: int
    additional_slab_paise: int
    cod_fixed_paise: int
    cod_percent_bp: int
    """COD fee as basis points of the COD amount; the courier charges the larger of fixed and %."""
    sla_days: int

    def freight_paise(self, chargeable_grams: int) -> int:
        extra = max(0, chargeable_grams - self.first_slab_grams)
        return (
            self.first_slab_paise + math.ceil(extra / self.additional_slab_grams) * self.additional_slab_paise
        )

    def cod_paise(self, cod_amount_paise: int) -> int:
        if cod_amount_paise <= 0:
            return 0
        return max(self.cod_fixed_paise, math.ceil(cod_amount_paise * self.cod_percent_bp / 10_000))


@dataclass(frozen=True, slots=True)
class Serviceability:
    """What one courier does at one pincode."""

    courier: str
    pincode: str
    prepaid: bool
    cod: bool
    reverse_pickup: bool
    pickup: bool | None = None
    """Whether it picks up parcels from a warehouse at this pincode; None when its data says
    nothing of pickup (ADR 0410)."""


@dataclass(frozen=True, slots=True)
class CourierTerms:
    """A courier the seller has an account with, and its limits."""

    courier: str
    max_cod_paise: int
    max_weight_grams: int = 30_000


@dataclass(frozen=True, slots=True)
class Choice:
    """A courier that can carry the parcel, what it costs and why it ranks where it does."""

    courier: str
    zone: Zone
    chargeable_grams: int
    freight_paise: int
    cod_charge_paise: int
    sla_days: int
    reason: str

    @property
    def total_paise(self) -> int:
        return self.freight_paise + self.cod_charge_paise


@dataclass(frozen=True, slots=True)
class Allocation:
    """The ranked couriers (book the first, fall back down the list) and the ones excluded."""

    policy: Policy
    zone: Zone
    chargeable_grams: int
    ranked: tuple[Choice, ...]
    excluded: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready, as stored on the shipment."""
        return {
            "policy": self.policy.value,
            "zone": self.zone.value,
            "chargeable_grams": self.chargeable_grams,
            "ranked": [
                {
                    "courier": c.courier,
                    "total_paise": c.total_paise,
                    "freight_paise": c.freight_paise,
                    "cod_charge_paise": c.cod_charge_paise,
                    "sla_days": c.sla_days,
                    "reason": c.reason,
                }
                for c in self.ranked
            ],
            "excluded": dict(self.excluded),
        }


@dataclass(frozen=True, slots=True)
class PickupCapacity:
    """A courier's confirmed pickup capacity at one warehouse on one day, and the parcels booked."""

    courier: str
    pickup_date: date
    parcels: int
    booked: int

    @property
    def full(self) -> bool:
        return self.booked >= self.parcels

    def why_full(self) -> str:
        return f"pickup capacity full on {self.pickup_date}: {self.booked} of {self.parcels} parcels booked"


def pickup_warnings(
    pickups: list[tuple[str, str, int, int | None]], *, day: date, near: float = 0.9
) -> list[str]:
    """The morning report's alerts for a day's pickups, (courier, warehouse, booked, capacity) each:
    over capacity (lowered below its bookings), full (the next parcel goes to another courier), or
    nearly full (`near` of it booked). A courier with no confirmed capacity is not limited: no alert."""
    warnings = []
    for courier, warehouse, booked, capacity in pickups:
        if capacity is None:
            continue
        if booked > capacity:
            state = "over capacity"
        elif booked >= capacity:
            state = "full"
        elif booked >= near * capacity:
            state = "nearly full"
        else:
            continue
        warnings.append(f"{courier} at {warehouse} on {day}: {state}, {booked} of {capacity} parcels booked")
    return warnings


def pickup_day(dispatch_by: datetime | None, *, now: datetime) -> date:
    """The IST day a courier is to collect a parcel: the day of its dispatch-by promise, or today
    when the promise is already behind us (or there is none)."""
    today = india_date(now)
    return today if dispatch_by is None else max(india_date(dispatch_by), today)


def at_capacity(capacities: list[PickupCapacity]) -> dict[str, str]:
    """Couriers whose pickup capacity is already taken, with why: they are excluded from the ranking."""
    return {c.courier: c.why_full() for c in capacities if c.full}


def allocate(
    *,
    parcel: Parcel,
    zone: Zone,
    couriers: list[CourierTerms],
    serviceability: dict[str, Serviceability],
    rate_cards: dict[tuple[str, Zone], RateCard],
    policy: Policy,
    promised_days: int | None = None,
    priority: tuple[str, ...] = (),
    reverse: bool = False,
    full_for_pickup: dict[str, str] | None = None,
    collects_at: dict[str, Serviceability] | None = None,
) -> Allocation:
    """Rank the couriers that can carry ``parcel`` to the destination; explain every exclusion.

    ``serviceability`` is keyed by courier for the destination pincode (the pickup pincode for a
    reverse pickup); ``rate_cards`` by (courier, zone); ``full_for_pickup`` names the couriers whose
    pickup capacity that day is taken (see ``at_capacity``), with why. ``collects_at`` is keyed by
    courier for the warehouse's pincode of a forward parcel: a courier whose data says where it
    picks up and not there is excluded (ADR 0410); one whose data says nothing of pickup is not.
    """
    full = full_for_pickup or {}
    weight = parcel.chargeable_grams
    eligible: list[Choice] = []
    excluded: dict[str, str] = {}
    for terms in couriers:
        name = terms.courier
        service = serviceability.get(name)
        card = rate_cards.get((name, zone))
        if service is None:
            excluded[name] = "does not serve this pincode"
        elif reverse and not service.reverse_pickup:
            excluded[name] = "no reverse pickup at this pincode"
        elif not reverse and parcel.cod_amount_paise > 0 and not service.cod:
            excluded[name] = "no COD at this pincode"
        elif not reverse and parcel.cod_amount_paise == 0 and not service.prepaid:
            excluded[name] = "no prepaid delivery at this pincode"
        elif (
            not reverse
            and collects_at is not None
            and service.pickup is not None
            and not (name in collects_at and collects_at[name].pickup)
        ):
            excluded[name] = "does not pick up at the warehouse's pincode"
        elif parcel.cod_amount_paise > terms.max_cod_paise:
            excluded[name] = (
                f"COD {parcel.cod_amount_paise} paise is over its limit of {terms.max_cod_paise} paise"
            )
        elif weight > terms.max_weight_grams:
            excluded[name] = f"{weight} g is over its limit of {terms.max_weight_grams} g"
        elif card is None:
            excluded[name] = f"no rate card for zone {zone.value}"
        elif name in full:
            excluded[name] = full[name]
        else:
            cod_charge = card.cod_paise(parcel.cod_amount_paise)
            freight = card.freight_paise(weight)
            eligible.append(
                Choice(
                    courier=name,
                    zone=zone,
                    chargeable_grams=weight,
                    freight_paise=freight,
                    cod_charge_paise=cod_charge,
                    sla_days=card.sla_days,
                    reason=f"zone {zone.value}, {weight} g, ₹{(freight + cod_charge) / 100:.2f}, "
                    f"{card.sla_days} day(s)",
                )
            )
    ranked = _rank(eligible, policy=policy, promised_days=promised_days, priority=priority)
    return Allocation(policy=policy, zone=zone, chargeable_grams=weight, ranked=ranked, excluded=excluded)


def _rank(
    eligible: list[Choice], *, policy: Policy, promised_days: int | None, priority: tuple[str, ...]
) -> tuple[Choice, ...]:
    def noted(choice: Choice, why: str) -> Choice:
        return replace(choice, reason=f"{choice.reason}; {why}")

    if policy is Policy.FASTEST:
        ordered = sorted(eligible, key=lambda c: (c.sla_days, c.total_paise, c.courier))
        return tuple(noted(c, "fastest first") for c in ordered)
    if policy is Policy.PRIORITY:
        position = {name: i for i, name in enumerate(priority)}
        ordered = sorted(eligible, key=lambda c: (position.get(c.courier, len(position)), c.total_paise))
        return tuple(
            noted(
                c, f"priority {position[c.courier] + 1}" if c.courier in position else "not in priority list"
            )
            for c in ordered
        )
    on_time = [c for c in eligible if promised_days is None or c.sla_days <= promised_days]
    late = [c for c in eligible if c not in on_time]
    on_time.sort(key=lambda c: (c.total_paise, c.sla_days, c.courier))
    # Late couriers stay as a last resort, fastest first, so a parcel still ships if all else fails.
    late.sort(key=lambda c: (c.sla_days, c.total_paise, c.courier))
    return tuple(noted(c, "cheapest within the promise") for c in on_time) + tuple(
        noted(c, f"misses the {promised_days}-day promise") for c in late
    )
