"""Priority rules as data: weights for speed, prepaid vs COD, value bands, channel and pincode ranges,
each counted weight named as a reason; the settings' weights rank exactly as before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from contracts import DeliverySpeed
from services.orders.domain.priority import (
    PincodeRange,
    PriorityFacts,
    PriorityRules,
    ValueBand,
    Weights,
    priority,
    queue_order,
    scored,
    weights_from,
)
from services.orders.priorities import PriorityWeights, weights_of

DIWALI = Weights(
    speed={"same_day": 300, "express": 100, "standard": 0},
    prepaid=20,
    cod=-5,
    value_bands=(ValueBand(200_000, 5), ValueBand(1_000_000, 15)),
    channels={"website": 8},
    pincodes=(PincodeRange("400001", "400104", 3, "Mumbai"), PincodeRange("400001", "499999", 1)),
)


def facts(**changes: object) -> PriorityFacts:
    base: dict[str, object] = {
        "speed": DeliverySpeed.STANDARD, "prepaid": True, "total_paise": 69_800, "channel": "shopify",
        "pincode": "302001",
    }  # fmt: skip
    return PriorityFacts(**(base | changes))  # type: ignore[arg-type]


def test_every_weight_that_counts_is_named_as_a_reason() -> None:
    rank, reasons = scored(
        facts(speed=DeliverySpeed.EXPRESS, total_paise=1_200_000, channel="website", pincode="400050"), DIWALI
    )
    assert rank == 100 + 20 + 15 + 8 + 3
    assert reasons == (
        "express +100",
        "prepaid +20",
        "value ≥ ₹10,000.00 +15",
        "channel website +8",
        "pincode 400001–400104 (Mumbai) +3",
    )


def test_cod_can_weigh_against_an_order_and_the_first_matching_pincode_range_counts() -> None:
    rank, reasons = scored(facts(prepaid=False, pincode="411001"), DIWALI)
    assert rank == -5 + 1
    assert reasons == ("cod -5", "pincode 400001–499999 +1")


def test_a_weight_of_zero_gives_no_reason() -> None:
    assert scored(facts(), DIWALI) == (20, ("prepaid +20",))


@pytest.mark.parametrize("speed", list(DeliverySpeed))
@pytest.mark.parametrize("prepaid", [True, False])
@pytest.mark.parametrize("total", [100, 499_999, 500_000, 10**9])
def test_the_settings_weights_rank_as_the_built_in_priority(
    speed: DeliverySpeed, prepaid: bool, total: int
) -> None:
    rules = PriorityRules()
    rank, _ = scored(facts(speed=speed, prepaid=prepaid, total_paise=total), weights_from(rules))
    assert rank == priority(speed=speed, prepaid=prepaid, total_paise=total, rules=rules)


def test_the_queue_goes_by_dispatch_by_then_priority() -> None:
    due_thursday = datetime(2026, 12, 3, 18, 29, 59, tzinfo=UTC)
    due_monday = datetime(2026, 12, 7, 18, 29, 59, tzinfo=UTC)
    assert queue_order([(due_monday, 300, "EXPRESS"), (None, 999, "NO-PROMISE"), (due_thursday, 0, "STD"),
                        (due_monday, 310, "EXPRESS-PREPAID")]) == [
        "STD", "EXPRESS-PREPAID", "EXPRESS", "NO-PROMISE"
    ]  # fmt: skip


def test_stored_weights_read_back_as_they_were_put() -> None:
    body = {
        "speed": {"express": 100, "standard": 0}, "prepaid": 20, "cod": -5,
        "value_bands": [{"from_paise": 200000, "weight": 5}], "channels": {"website": 8},
        "pincodes": [{"first": "400001", "last": "400104", "weight": 3, "label": "Mumbai"}],
    }  # fmt: skip
    weights = weights_of(PriorityWeights.model_validate(body).model_dump(mode="json"))
    assert weights.channels == {"website": 8}
    assert weights.pincodes == (PincodeRange("400001", "400104", 3, "Mumbai"),)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"speed": {"overnight": 5}}, "speed.overnight"),
        ({"channels": {"ebay": 5}}, "channels.ebay"),
        ({"pincodes": [{"first": "40001", "last": "400104", "weight": 1}]}, "pincodes.0.first"),
        ({"pincodes": [{"first": "400200", "last": "400104", "weight": 1}]}, "pincodes.0"),
        ({"value_bands": [{"from_paise": -1, "weight": 1}]}, "value_bands.0.from_paise"),
    ],
)
def test_bad_weights_are_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    body = {"speed": {"express": 100}, "prepaid": 10} | change
    with pytest.raises(ValidationError) as refused:
        PriorityWeights.model_validate(body)
    assert any(".".join(str(p) for p in e["loc"]).startswith(field) for e in refused.value.errors())
