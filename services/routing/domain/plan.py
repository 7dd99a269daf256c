"""Ranked fulfilment plans: which warehouse (or which few) ships an order's lines, and why.

One warehouse that has every line beats any split; among those, a channel's preferred warehouse,
then one that still dispatches today, then the cheapest courier zone and the shortest distance.
When no warehouse has everything, the order is split into the fewest shipments allowed, never
into a parcel worth less than the minimum shipment value. Rules (prefer, exclude, pin) and each
warehouse's daily capacity narrow the choice first; every plan says in words why it ranks where.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo

from chassis.geo import Zone, coordinates, distance_km, zone
from contracts import FulfilmentPlan, OrderLine, PlannedShipment, SkuQuantity


@dataclass(frozen=True, slots=True)
class Warehouse:
    """A warehouse as routing sees it."""

    code: str
    name: str
    pincode: str
    latitude: float
    longitude: float
    priority: int = 0
    daily_capacity: int | None = None
    cutoff: time | None = None


@dataclass(frozen=True, slots=True)
class Rules:
    """Operator rules: a preferred warehouse per channel, pincode ranges a warehouse must not
    serve (inclusive, as 6-digit strings), and SKUs that may ship only from some warehouses."""

    preferred_for_channel: dict[str, str] = field(default_factory=dict)
    excluded_pincodes: list[tuple[str, str, str]] = field(default_factory=list)
    pinned_skus: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Policy:
    """How far routing may go to serve an order."""

    max_shipments: int = 2
    min_shipment_value_paise: int = 0
    max_plans: int = 5


@dataclass(frozen=True, slots=True)
class Order:
    """What routing needs to know of an order."""

    lines: list[OrderLine]
    customer_pincode: str
    channel: str | None = None
    cod: bool = False
    shipped_by_marketplace: bool = False
    """The marketplace's own logistics carry it: no courier of ours needs to serve the pincode."""
    rehearsal: bool = False
    """An operator's rehearsal (ADR 0360): planned like any order, its plans say so for inventory."""


@dataclass(frozen=True, slots=True)
class Today:
    """The moment of planning: local time and how many orders each warehouse already took today."""

    local_time: time | None = None
    orders_taken: dict[str, int] = field(default_factory=dict)


def local_moment(at: datetime, tz: tzinfo) -> tuple[date, time]:
    """The warehouses' calendar day and time of day at a moment: capacity is counted per local day
    and cut-offs are local times, so 18:30 UTC is already the next day's first minute in India."""
    local = at.astimezone(tz)
    return local.date(), local.time()


@dataclass(frozen=True, slots=True)
class _Option:
    wh: Warehouse
    zone: Zone
    km: float
    preferred: bool
    late: bool

    @property
    def key(self) -> tuple[bool, bool, int, float, int, str]:
        return (not self.preferred, self.late, self.zone.cost_rank, self.km, -self.wh.priority, self.wh.code)

    def describe(self) -> str:
        where = f"{self.km:,.0f} km" if math.isfinite(self.km) else "distance unknown"
        words = [f"{self.wh.name} ({self.wh.code}): {self.zone.label} (zone {self.zone}), {where}"]
        if self.preferred:
            words.append("preferred for this channel")
        if self.late:
            words.append(f"past its {self.wh.cutoff:%H:%M} cut-off, dispatches tomorrow")
        return "; ".join(words)


def replans(*, planned: bool, attempt: int, round_start: int, max_attempts: int) -> bool:
    """Whether routing plans again if inventory reserves none of this attempt's plans.

    The budget counts this round's attempts: a release by an operator starts a new round. With no
    plan at all, routing's own view of stock was short; only the round's first attempt then asks
    inventory, whose numbers may hold a receipt routing has not heard of yet (ADR 0446). A later
    empty attempt was planned from inventory's numbers already, so its failure is final."""
    within_budget = attempt - round_start + 1 < max_attempts
    return within_budget and (planned or attempt == round_start)


def wanted(order: Order) -> list[SkuQuantity]:
    """The order's units per line, for inventory to check against its own numbers."""
    return [SkuQuantity(sku=line.sku, quantity=line.quantity) for line in order.lines]


def plan(
    *,
    order: Order,
    warehouses: list[Warehouse],
    available: dict[tuple[str, str], int],
    rules: Rules | None = None,
    policy: Policy | None = None,
    today: Today | None = None,
    unserved: dict[str, str] | None = None,
) -> tuple[list[FulfilmentPlan], list[str]]:
    """Ranked plans for an order, and why warehouses were left out (the explanation of an empty
    list). ``available`` maps (sku, warehouse_code) → units available to sell; ``unserved`` maps
    the code of a warehouse no courier carries this order from to why (ADR 0410)."""
    rules, policy, today = rules or Rules(), policy or Policy(), today or Today()
    unserved = unserved or {}
    options, notes = _eligible(order, [wh for wh in warehouses if wh.code not in unserved], rules, today)
    left_out = [f"{code} excluded: {why}" for code, why in sorted(unserved.items())]
    notes[:0] = left_out

    def can_ship(opt: _Option, line: OrderLine) -> bool:
        pins = rules.pinned_skus.get(line.sku)
        return (pins is None or opt.wh.code in pins) and available.get(
            (line.sku, opt.wh.code), 0
        ) >= line.quantity

    for line in order.lines:
        if (pins := rules.pinned_skus.get(line.sku)) is not None:
            notes.append(f"{line.sku} is pinned to {', '.join(sorted(pins))}")
    singles = sorted(
        (o for o in options if all(can_ship(o, line) for line in order.lines)), key=lambda o: o.key
    )
    plans: list[FulfilmentPlan] = []
    for opt in singles:
        reasons = [f"ships complete from one warehouse: {opt.describe()}"]
        plans.append(_plan([(opt, order.lines)], reasons, score=_score([opt])))
    splits = _splits(order, options, can_ship, policy, notes) if len(order.lines) > 1 else []
    if not singles and not splits:
        notes.extend(_shortages(order, options, available))
    ranked = [*plans, *splits][: policy.max_plans]
    return [
        p.model_copy(update={"rank": i, "reasons": [*p.reasons, *left_out]})
        for i, p in enumerate(ranked, start=1)
    ], notes


def _eligible(
    order: Order, warehouses: list[Warehouse], rules: Rules, today: Today
) -> tuple[list[_Option], list[str]]:
    destination = coordinates(order.customer_pincode)
    preferred = rules.preferred_for_channel.get(order.channel or "")
    options, notes = [], []
    for wh in warehouses:
        excluded = [
            (lo, hi)
            for lo, hi, code in rules.excluded_pincodes
            if code == wh.code and lo <= order.customer_pincode <= hi
        ]
        if excluded:
            lo, hi = excluded[0]
            notes.append(f"{wh.code} excluded: does not serve pincodes {lo}–{hi}")
            continue
        taken = today.orders_taken.get(wh.code, 0)
        if wh.daily_capacity is not None and taken >= wh.daily_capacity:
            notes.append(f"{wh.code} excluded: took {taken} of its {wh.daily_capacity} orders today")
            continue
        km = distance_km((wh.latitude, wh.longitude), destination) if destination else math.inf
        late = wh.cutoff is not None and today.local_time is not None and today.local_time > wh.cutoff
        options.append(_Option(wh, zone(wh.pincode, order.customer_pincode), km, wh.code == preferred, late))
    return options, notes


def _splits(
    order: Order,
    options: list[_Option],
    can_ship: Callable[[_Option, OrderLine], bool],
    policy: Policy,
    notes: list[str],
) -> list[FulfilmentPlan]:
    """Plans of 2..max_shipments warehouses, each line from the best warehouse of the set that has
    it; fewer shipments first. A set where a warehouse would get no line is a smaller set's plan."""
    found: list[tuple[tuple[int, int, float], FulfilmentPlan]] = []
    too_small = 0
    ordered = sorted(options, key=lambda o: o.key)
    for size in range(2, policy.max_shipments + 1):
        for combo in itertools.combinations(ordered, size):
            assignment: dict[str, list[OrderLine]] = {o.wh.code: [] for o in combo}
            for line in order.lines:
                best = next((o for o in combo if can_ship(o, line)), None)
                if best is None:
                    break
                assignment[best.wh.code].append(line)
            else:
                if any(not lines for lines in assignment.values()):
                    continue
                values = {
                    code: sum(li.quantity * li.unit_price_paise for li in lines)
                    for code, lines in assignment.items()
                }
                if min(values.values()) < policy.min_shipment_value_paise:
                    too_small += 1
                    continue
                parts = [(o, assignment[o.wh.code]) for o in combo]
                reasons = [
                    f"no single warehouse has every line; split into {size} shipments",
                    *(
                        f"{o.describe()} ships {_skus(lines)} ({_rupees(values[o.wh.code])})"
                        for o, lines in parts
                    ),
                ]
                rank_key = (size, sum(o.zone.cost_rank for o in combo), sum(o.km for o in combo))
                found.append((rank_key, _plan(parts, reasons, score=_score(list(combo)) - 1000 * (size - 1))))
        if found:
            break  # fewest shipments: a larger split is never offered while a smaller one works
    if too_small:
        notes.append(
            f"{too_small} split(s) refused: a shipment would be worth less than "
            f"{_rupees(policy.min_shipment_value_paise)}"
        )
    if policy.max_shipments < 2:
        notes.append("splitting is switched off (max_shipments = 1)")
    return [p for _, p in sorted(found, key=lambda f: f[0])]


def _shortages(order: Order, options: list[_Option], available: dict[tuple[str, str], int]) -> list[str]:
    return [
        f"{line.sku} needs {line.quantity}; "
        + (
            ", ".join(f"{o.wh.code} has {available.get((line.sku, o.wh.code), 0)}" for o in options)
            or "no warehouse"
        )
        for line in order.lines
    ]


def _skus(lines: list[OrderLine]) -> str:
    return ", ".join(line.sku for line in lines)


def _rupees(paise: int) -> str:
    return f"₹{paise / 100:,.2f}"


def _score(opts: list[_Option]) -> float:
    """Higher is better: minus zone cost and distance, for operators comparing plans."""
    km = sum(o.km for o in opts if math.isfinite(o.km))
    return round(-(100 * sum(o.zone.cost_rank for o in opts) + km), 1)


def _plan(
    parts: list[tuple[_Option, list[OrderLine]]], reasons: list[str], *, score: float
) -> FulfilmentPlan:
    return FulfilmentPlan(
        rank=1,
        shipments=[
            PlannedShipment(
                warehouse_code=opt.wh.code,
                lines=[SkuQuantity(sku=line.sku, quantity=line.quantity) for line in lines],
            )
            for opt, lines in parts
        ],
        score=score,
        reasons=reasons,
    )
