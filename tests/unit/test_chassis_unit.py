"""Chassis pieces that need no servers: masking, migrations on disk, DLQ headers, faults, envelopes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from chassis import db, faults
from chassis.consumer import event_id_of, read_envelope
from chassis.kafka import dead_letter_headers, topic_plan, topic_refusals
from chassis.logging import mask_personal_data, mask_text
from chassis.ratelimit import Limit, take_up_to
from chassis.settings import ServiceSettings
from contracts.registry import all_topics


@dataclass
class Rec:
    topic: str = "channel.orders.v1"
    partition: int = 3
    offset: int = 17
    key: bytes | None = b"shopify:1"
    value: bytes | None = b"{}"
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def test_phones_emails_names_and_address_lines_never_reach_a_log_in_clear() -> None:
    event = {
        "event": "order placed for +919812345678",
        "customer": {"name": "Asha Verma", "phone": "+919812345678", "email": "asha@example.com"},
        "shipping_address": {"line1": "12 MI Road", "city": "Jaipur", "pincode": "302001"},
        "order_id": "ORD-01A216080E097438",
    }
    masked = mask_personal_data(None, "info", dict(event))
    text = repr(masked)
    for secret in ("9812345678", "Asha", "asha@", "MI Road"):
        assert secret not in text
    assert masked["customer"]["phone"] == "+9198******78"
    assert masked["shipping_address"]["city"] == "Jaipur", "a city is not personal"
    assert masked["order_id"] == "ORD-01A216080E097438"


def test_ids_full_of_digits_are_not_mistaken_for_phone_numbers() -> None:
    assert mask_text("01a21608-0e51-7140-9f5e-1a6780c57db4 AWB 14900000000001") == (
        "01a21608-0e51-7140-9f5e-1a6780c57db4 AWB 14900000000001"
    )


def test_migrations_are_read_in_number_order_and_badly_named_files_refused(tmp_path: Path) -> None:
    (tmp_path / "002_second.sql").write_text("SELECT 2")
    (tmp_path / "001_first.sql").write_text("SELECT 1")
    assert [m.name for m in db.load_migrations("x", tmp_path)] == ["001_first", "002_second"]
    (tmp_path / "3_bad.sql").write_text("SELECT 3")
    with pytest.raises(ValueError, match="NNN_snake_name"):
        db.load_migrations("x", tmp_path)


def test_every_service_database_url_points_at_its_own_database() -> None:
    url = db.with_database("postgresql://u:p@db:5432/postgres?sslmode=disable", db.database_name("orders"))
    assert url == "postgresql://u:p@db:5432/dabba_orders?sslmode=disable"


def test_dead_letter_headers_say_where_the_record_came_from_and_why() -> None:
    headers = dead_letter_headers(Rec(headers=[("ce_id", b"abc")]), "boom", "orders")  # type: ignore[arg-type]
    assert headers == {
        "ce_id": "abc",
        "dlq_original_topic": "channel.orders.v1",
        "dlq_original_partition": "3",
        "dlq_original_offset": "17",
        "dlq_error": "boom",
        "dlq_service": "orders",
    }


def test_a_record_without_cloudevents_headers_gets_a_stable_id_from_its_position() -> None:
    record = Rec()
    assert read_envelope(record) is None  # type: ignore[arg-type]
    assert event_id_of(record, None) == event_id_of(Rec(), None)  # type: ignore[arg-type]
    assert event_id_of(record, None) != event_id_of(Rec(offset=18), None)  # type: ignore[arg-type]


def test_topic_setup_creates_every_contract_topic_with_explicit_partitions_and_a_dlq_per_service() -> None:
    plan = topic_plan()
    assert all(plan[t] == 4 for t in all_topics()), "KAFKA_TOPIC_PARTITIONS unset: 4 (ADR 541)"
    assert {t for t in plan if t.startswith("dlq.")} == {
        "dlq.orders",
        "dlq.routing",
        "dlq.inventory",
        "dlq.shipping",
        "dlq.notifications",
        "dlq.returns",
        "dlq.console",
        "dlq.channels",
        "dlq.invoicing",
    }


def test_fault_points_fire_only_when_armed_and_matching(monkeypatch: pytest.MonkeyPatch) -> None:
    faults._armed_points.cache_clear()
    assert not faults.armed("outbox.after_publish", lambda: ["x"])
    monkeypatch.setenv("DABBA_FAULTS", "outbox.after_publish")
    monkeypatch.setenv("DABBA_FAULT_MATCH", "SHP-9")
    faults._armed_points.cache_clear()
    try:
        assert faults.armed("outbox.after_publish", lambda: ["order SHP-9"])
        assert not faults.armed("outbox.after_publish", lambda: ["order SHP-8"])
        assert not faults.armed("consumer.after_commit", lambda: ["order SHP-9"])
    finally:
        faults._armed_points.cache_clear()


async def test_a_periodic_job_keeps_running_after_a_failed_round() -> None:
    from chassis.service import Service
    from chassis.settings import ServiceSettings

    service = Service("t", settings=ServiceSettings())
    rounds: list[int] = []
    third = asyncio.Event()

    @service.every(0.01, name="sweep")
    async def sweep(_service: Service) -> None:
        rounds.append(len(rounds))
        if len(rounds) == 3:
            third.set()
        if len(rounds) == 1:
            raise RuntimeError("database went away for a moment")

    task = asyncio.create_task(service._run_every("sweep", 0.01, sweep))
    await asyncio.wait_for(third.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rounds[:3] == [0, 1, 2]


def test_a_webhook_signature_matches_only_its_exact_body_and_secret() -> None:
    from chassis.signatures import hmac_sha256_hex, signed_by

    body = b'{"event":"payment.captured"}'
    good = hmac_sha256_hex("whsec", body)
    assert good == "4673dd707ef4c41b987cb7fefe1583142dc702388c93145b7814b9ad3d3c183e"
    assert signed_by("whsec", body, good)
    assert signed_by("whsec", body, "sha256=" + good, prefix="sha256=")
    assert not signed_by("whsec", body + b" ", good)
    assert not signed_by("other", body, good)
    assert not signed_by("whsec", body, None)
    assert not signed_by("whsec", body, "sha256=" + good)  # prefix expected but not asked for
    assert not signed_by("whsec", body, "पैसा")  # a non-ASCII header is a mismatch, not a crash


def test_a_fault_point_not_listed_is_a_mistake_not_a_silent_no_op() -> None:
    with pytest.raises(ValueError, match=r"unknown fault point 'outbox\.after_publsh'"):
        faults.armed("outbox.after_publsh")
    assert not faults.armed("outbox.after_publish"), "a listed point, not armed in this process"


class _Receipt(BaseModel):
    sku: str
    quantity: int = Field(ge=1)
    warehouse: str


async def test_a_malformed_body_refusal_also_names_the_routes_business_problems() -> None:
    import httpx
    from fastapi import APIRouter

    from chassis.auth import parse_keys
    from chassis.http import also_check, create_http_app

    async def ready() -> dict[str, bool]:
        return {}

    app = create_http_app(title="t", version="0", lifespan=None, readiness=ready, api_keys=parse_keys(""))  # type: ignore[arg-type]
    router = APIRouter()

    @router.post("/receipts")
    @also_check(lambda body: [("warehouse", "no warehouse XX9")] if body.get("warehouse") == "XX9" else [])
    async def receive(body: _Receipt) -> dict[str, str]:
        return {"ok": body.sku}

    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.post("/receipts", json={"sku": "TEA", "quantity": -1, "warehouse": "XX9"})
        assert r.status_code == 422
        assert [p["field"] for p in r.json()["problems"]] == ["quantity", "warehouse"]
        r = await c.post("/receipts", json={"sku": "TEA", "quantity": -1, "warehouse": "GGN1"})
        assert [p["field"] for p in r.json()["problems"]] == ["quantity"]


@dataclass(frozen=True)
class _Parcel:
    awb: str
    status: int
    lines: tuple[str, ...]


def test_a_record_takes_each_column_of_its_name_unless_the_store_converted_it() -> None:
    row = {"awb": "AWB1", "status": "3", "lines": ["TEA", "COFFEE"], "created_at": "ignored"}
    fields = db.row_fields(_Parcel, row, status=int(row["status"]), lines=tuple(row["lines"]))  # type: ignore[arg-type]
    assert _Parcel(**fields) == _Parcel(awb="AWB1", status=3, lines=("TEA", "COFFEE"))
    with pytest.raises(KeyError):
        db.row_fields(_Parcel, {"awb": "AWB1"}, status=3)  # type: ignore[arg-type]


def test_an_idle_consumer_long_polls_and_a_ready_record_is_not_held(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fetch names each partition of every subscribed topic; a short wait costs CPU all the time
    (ADR 300). A minimum above one byte would hold a lone record for the whole wait at each hop."""
    from chassis.settings import ServiceSettings

    for name in ("CONSUMER_FETCH_MIN_BYTES", "CONSUMER_FETCH_MAX_WAIT_MS"):
        monkeypatch.delenv(name, raising=False)
    settings = ServiceSettings()
    assert settings.consumer_fetch_min_bytes == 1
    assert settings.consumer_fetch_max_wait_ms >= 500


async def test_a_profile_is_written_even_when_its_folder_does_not_exist_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cProfile

    from chassis.service import Service
    from chassis.settings import ServiceSettings

    folder = tmp_path / "profiles" / "run-1"
    monkeypatch.setenv("DABBA_PROFILE", str(folder))
    service = Service("t", settings=ServiceSettings())
    service._profiler = cProfile.Profile()
    service._profiler.enable()
    await service.stop()
    assert (folder / "t.prof").stat().st_size > 0


def test_min_isr_above_the_replication_factor_is_refused_naming_both() -> None:
    with pytest.raises(ValueError) as refused:
        ServiceSettings(kafka_replication_factor=2, kafka_min_insync_replicas=3)
    assert "KAFKA_MIN_INSYNC_REPLICAS (3) is more than KAFKA_REPLICATION_FACTOR (2)" in str(refused.value)


def test_topic_refusals_skip_a_topic_another_process_just_created() -> None:
    answer = [
        ("orders.placed.v1", 36, "Topic 'orders.placed.v1' already exists."),
        ("a.v1", 0, None),
        ("b.v1", 38, "The target replication factor of 3 cannot be reached"),
    ]
    assert topic_refusals(answer) == ["b.v1: The target replication factor of 3 cannot be reached"]


def test_a_round_takes_what_the_bucket_holds_then_its_refill() -> None:
    limit = Limit(rate=10, burst=10)
    assert take_up_to(10.0, elapsed_s=0.0, limit=limit, wanted=25) == (10, 0.0)
    assert take_up_to(0.0, elapsed_s=0.5, limit=limit, wanted=25) == (5, 0.0)
    assert take_up_to(0.0, elapsed_s=100.0, limit=limit, wanted=25) == (10, 0.0), "never above the burst"
    assert take_up_to(10.0, elapsed_s=0.0, limit=limit, wanted=3) == (3, 7.0)
    assert take_up_to(0.5, elapsed_s=-5.0, limit=limit, wanted=3) == (0, 0.5), "a clock behind restores none"


def test_kafka_topic_partitions_sets_every_contract_topic_and_leaves_dlqs_at_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_TOPIC_PARTITIONS", "12")
    plan = topic_plan(ServiceSettings().kafka_topic_partitions)
    assert {plan[t] for t in all_topics()} == {12}
    assert {n for t, n in plan.items() if t.startswith("dlq.")} == {1}
    monkeypatch.setenv("KAFKA_TOPIC_PARTITIONS", "0")
    with pytest.raises(ValueError, match="kafka_topic_partitions"):
        ServiceSettings()
