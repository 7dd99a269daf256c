"""Courier scans move shipments forward only: late, repeated and out-of-order scans change nothing;
each courier's codes map to the canonical states and NDR reasons through its table."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from contracts import NdrReason, ShipmentStatus
from services.shipping.couriers import delhivery, shiprocket, xpressbees
from services.shipping.couriers.common import ndr_reason_from_text
from services.shipping.couriers.interface import CourierScan, WebhookRefused
from services.shipping.domain import tracking

S = ShipmentStatus
T0 = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)


def scan(status: S | None, minutes: int = 0, attempt: int | None = None) -> CourierScan:
    return CourierScan(
        awb="1",
        code=str(status),
        status=status,
        occurred_at=T0 + timedelta(minutes=minutes),
        attempt=attempt,
        ndr_reason=NdrReason.REFUSED if status is S.NDR else None,
    )


def at(status: S, minutes: int = 0, attempts: int = 0) -> tracking.Tracked:
    return tracking.Tracked(
        status=status, ndr_attempts=attempts, last_change_at=T0 + timedelta(minutes=minutes)
    )


def test_a_delivered_parcel_ignores_a_late_in_transit_scan() -> None:
    assert tracking.apply_scan(at(S.DELIVERED, 10), scan(S.IN_TRANSIT, 20), now=NOW) is None


def test_an_out_for_delivery_scan_older_than_the_ndr_does_not_undo_it() -> None:
    # Out of order: the NDR arrived first; the older OFD must not look like a re-attempt.
    assert tracking.apply_scan(at(S.NDR, 30, attempts=1), scan(S.OUT_FOR_DELIVERY, 20), now=NOW) is None


def test_a_newer_out_for_delivery_after_an_ndr_is_the_reattempt() -> None:
    change = tracking.apply_scan(at(S.NDR, 30, attempts=1), scan(S.OUT_FOR_DELIVERY, 40), now=NOW)
    assert change == tracking.Change(status=S.OUT_FOR_DELIVERY)


def test_each_failed_attempt_counts_once() -> None:
    first = tracking.apply_scan(at(S.OUT_FOR_DELIVERY, 0), scan(S.NDR, 1), now=NOW)
    again = tracking.apply_scan(at(S.NDR, 1, attempts=1), scan(S.NDR, 2, attempt=1), now=NOW)
    second = tracking.apply_scan(at(S.NDR, 1, attempts=1), scan(S.NDR, 5), now=NOW)

    assert first == tracking.Change(status=S.NDR, attempt=1, ndr_reason=NdrReason.REFUSED)
    assert again is None
    assert second is not None and second.attempt == 2


def test_a_pushed_attempt_number_counts_at_most_one_more_than_seen() -> None:
    # A forged NDR claiming "attempt 99" would otherwise queue an RTO with the real courier.
    forged = tracking.apply_scan(at(S.OUT_FOR_DELIVERY, 0), scan(S.NDR, 1, attempt=99), now=NOW)
    assert forged == tracking.Change(status=S.NDR, attempt=1, ndr_reason=NdrReason.REFUSED)
    assert not tracking.should_return_to_origin(forged, max_attempts=3)
    later = tracking.apply_scan(at(S.NDR, 1, attempts=1), scan(S.NDR, 2, attempt=7), now=NOW)
    assert later is not None and later.attempt == 2


def test_a_scan_dated_in_the_future_is_refused_and_does_not_freeze_tracking() -> None:
    future = scan(S.IN_TRANSIT, 60 * 24 * 365)
    assert tracking.apply_scan(at(S.PICKED_UP, 0), future, now=NOW) is None
    # Our clock minus a few minutes of the courier's is tolerated.
    slightly_ahead = scan(S.IN_TRANSIT, 60 + 10)
    assert tracking.apply_scan(at(S.PICKED_UP, 0), slightly_ahead, now=NOW) == tracking.Change(S.IN_TRANSIT)
    # The genuine next scan still moves the shipment: the future one left no mark.
    assert tracking.apply_scan(at(S.PICKED_UP, 0), scan(S.OUT_FOR_DELIVERY, 30), now=NOW) is not None


def test_the_third_failed_attempt_sends_the_parcel_back() -> None:
    third = tracking.Change(status=S.NDR, attempt=3)
    assert tracking.should_return_to_origin(third, max_attempts=3)
    assert not tracking.should_return_to_origin(tracking.Change(status=S.NDR, attempt=2), max_attempts=3)


def test_informational_scans_move_nothing() -> None:
    assert tracking.apply_scan(at(S.AWB_ASSIGNED), scan(None, 5), now=NOW) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Consignee not available", NdrReason.CUSTOMER_UNAVAILABLE),
        ("Consignee phone not reachable", NdrReason.PHONE_UNREACHABLE),
        ("Cash not ready with consignee", NdrReason.CASH_NOT_READY),
        ("Consignee requested future delivery", NdrReason.FUTURE_DELIVERY_REQUESTED),
        ("Consignee refused to accept", NdrReason.REFUSED),
        ("Incomplete address", NdrReason.WRONG_OR_INCOMPLETE_ADDRESS),
        ("Out of delivery area", NdrReason.OUT_OF_DELIVERY_AREA),
        ("Shipment held", NdrReason.OTHER),
    ],
)
def test_courier_ndr_remarks_map_to_the_taxonomy(text: str, reason: NdrReason) -> None:
    assert ndr_reason_from_text(text) is reason


def delhivery_push(kind: str, status: str, code: str, text: str = "") -> bytes:
    return json.dumps(
        {
            "Shipment": {
                "AWB": "149",
                "Status": {
                    "Status": status,
                    "StatusType": kind,
                    "StatusCode": code,
                    "StatusDateTime": "2026-11-26T11:30:00.000",
                    "Instructions": text,
                },
            }
        }
    ).encode()


@pytest.mark.parametrize(
    ("kind", "status", "code", "expected"),
    [
        ("UD", "Manifested", "X-UCI", None),
        ("UD", "In Transit", "X-PPOM", S.PICKED_UP),
        ("UD", "Dispatched", "X-DDD3FD", S.OUT_FOR_DELIVERY),
        ("DL", "Delivered", "EOD-38", S.DELIVERED),
        ("UD", "Pending", "EOD-6", S.NDR),
        ("RT", "In Transit", "RT-101", S.RTO_INITIATED),
        ("RT", "In Transit", "RT-110", S.RTO_IN_TRANSIT),
        ("DL", "RTO", "RD-AC", S.RTO_DELIVERED),
    ],
)
def test_delhivery_scan_codes_map_to_canonical_states(kind: str, status: str, code: str, expected: S) -> None:
    courier = delhivery.DelhiveryCourier(None, token="t", webhook_token="hook")  # type: ignore[arg-type]

    [read] = courier.read_webhook({"authorization": "Token hook"}, delhivery_push(kind, status, code))

    assert read.status is expected
    assert read.occurred_at == datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # IST without offset, read as IST


def test_a_delhivery_refusal_is_an_ndr_with_its_reason() -> None:
    courier = delhivery.DelhiveryCourier(None, token="t", webhook_token="hook")  # type: ignore[arg-type]
    [read] = courier.read_webhook({"authorization": "Token hook"}, delhivery_push("UD", "Pending", "EOD-6"))
    assert read.ndr_reason is NdrReason.REFUSED


def test_a_delhivery_push_with_the_wrong_token_is_refused() -> None:
    courier = delhivery.DelhiveryCourier(None, token="t", webhook_token="hook")  # type: ignore[arg-type]
    with pytest.raises(WebhookRefused, match="does not match"):
        courier.read_webhook({"authorization": "Token nope"}, delhivery_push("DL", "Delivered", "EOD-38"))


def test_shiprocket_undelivered_is_an_ndr_and_needs_its_api_key() -> None:
    courier = shiprocket.ShiprocketCourier(None, email="e", password="p", webhook_token="k")  # type: ignore[arg-type]
    body = json.dumps(
        {
            "awb": "9",
            "current_status": "UNDELIVERED",
            "current_status_id": 21,
            "current_timestamp": "2026-11-26 11:30:00",
            "scans": [{"activity": "Consignee phone not reachable", "location": "Jaipur"}],
        }
    ).encode()

    [read] = courier.read_webhook({"x-api-key": "k"}, body)

    assert (read.status, read.ndr_reason, read.location) == (S.NDR, NdrReason.PHONE_UNREACHABLE, "Jaipur")
    with pytest.raises(WebhookRefused):
        courier.read_webhook({}, body)


def test_xpressbees_webhooks_must_be_signed_over_the_exact_body() -> None:
    courier = xpressbees.XpressbeesCourier(None, email="e", password="p", webhook_secret="s")  # type: ignore[arg-type]
    body = json.dumps(
        {"awb_number": "7", "status_code": "RT-DL", "event_time": "2026-11-26T11:30:00+05:30"}
    ).encode()

    [read] = courier.read_webhook({"x-xb-signature": xpressbees.sign("s", body)}, body)

    assert read.status is S.RTO_DELIVERED
    with pytest.raises(WebhookRefused, match="does not match"):
        courier.read_webhook({"x-xb-signature": xpressbees.sign("s", body)}, body.replace(b"RT-DL", b"DL"))


def test_a_shiprocket_rto_ndr_is_the_parcel_going_back_not_a_customer_ndr() -> None:
    courier = shiprocket.ShiprocketCourier(None, email="e", password="p", webhook_token="k")  # type: ignore[arg-type]
    body = json.dumps(
        {
            "awb": "9",
            "current_status": "RTO NDR",
            "current_status_id": 40,
            "current_timestamp": "2026-11-26 11:30:00",
        }
    ).encode()

    [read] = courier.read_webhook({"x-api-key": "k"}, body)

    assert (read.status, read.ndr_reason) == (S.RTO_IN_TRANSIT, None)


def shiprocket_documented_push(awb: str) -> bytes:
    """Shiprocket's own sample tracking push (apidocs.shiprocket.in, "Webhooks"), our AWB in it:
    ``current_status_id`` 20 beside ``shipment_status_id`` 18, and the scans that led there."""
    return json.dumps(
        {
            "awb": awb,
            "courier_name": "Delhivery Surface",
            "current_status": "IN TRANSIT",
            "current_status_id": 20,
            "shipment_status": "IN TRANSIT",
            "shipment_status_id": 18,
            "current_timestamp": "23 05 2023 11:43:52",
            "order_id": "1373900_150876814",
            "sr_order_id": 348456385,
            "awb_assigned_date": "2023-05-19 11:59:16",
            "pickup_scheduled_date": "2023-05-19 11:59:17",
            "etd": "2023-05-23 15:40:19",
            "scans": [
                {
                    "date": "2023-05-19 11:59:16",
                    "status": "X-UCI",
                    "activity": "Manifested - Manifest uploaded",
                    "location": "Chomu_SamodRd_D (Rajasthan)",
                    "sr-status": "5",
                    "sr-status-label": "MANIFEST GENERATED",
                },
                {
                    "date": "2023-05-19 15:32:17",
                    "status": "X-PPOM",
                    "activity": "In Transit - Shipment picked up",
                    "location": "Chomu_SamodRd_D (Rajasthan)",
                    "sr-status": "42",
                    "sr-status-label": "PICKED UP",
                },
            ],
            "is_return": 0,
            "channel_id": 3422553,
            "pod_status": "OTP Based Delivery",
            "pod": "Not Available",
            "qc_image": "",
            "qc_failure_reason": "",
        }
    ).encode()


def test_shiprocket_documented_push_moves_the_parcel_by_its_shipment_status_id_and_its_scans() -> None:
    courier = shiprocket.ShiprocketCourier(None, email="e", password="p", webhook_token="k")  # type: ignore[arg-type]

    scans = courier.read_webhook({"x-api-key": "k"}, shiprocket_documented_push("19041424751540"))

    assert [s.status for s in scans] == [None, S.PICKED_UP, S.IN_TRANSIT], "in time order"
    tracked = at(S.MANIFESTED, minutes=-(10**7))
    moved = []
    for read in scans:
        change = tracking.apply_scan(tracked, read, now=read.occurred_at)
        if change is not None:
            moved.append(change.status)
            tracked = tracking.Tracked(status=change.status, ndr_attempts=0, last_change_at=read.occurred_at)
    assert moved == [S.PICKED_UP, S.IN_TRANSIT], "the pickup is seen, so stock is dispatched on it"


class TrackingApi:
    """A courier whose tracking API knows these scans per AWB (the rest of the adapter unused)."""

    def __init__(self, history: dict[str, list[CourierScan]]) -> None:
        self.history = history
        self.asked: list[str] = []

    async def track(self, awb: str) -> list[CourierScan]:
        self.asked.append(awb)
        return self.history.get(awb, [])


async def test_a_pushed_delivered_counts_only_when_the_tracking_api_says_so_too() -> None:
    from services.shipping.webhooks import confirm_final_states

    forged = CourierScan(awb="A1", code="DL", status=S.DELIVERED, occurred_at=T0)
    in_transit = CourierScan(awb="A1", code="IT", status=S.IN_TRANSIT, occurred_at=T0 - timedelta(hours=5))
    courier = TrackingApi({"A1": [in_transit]})
    assert await confirm_final_states(courier, [forged]) == [in_transit]  # type: ignore[arg-type]

    delivered = CourierScan(awb="A1", code="DL", status=S.DELIVERED, occurred_at=T0)
    genuine = TrackingApi({"A1": [in_transit, delivered]})
    assert await confirm_final_states(genuine, [forged]) == [in_transit, delivered]  # type: ignore[arg-type]

    ordinary = scan(S.OUT_FOR_DELIVERY, 5)
    quiet = TrackingApi({})
    assert await confirm_final_states(quiet, [ordinary]) == [ordinary]  # type: ignore[arg-type]
    assert quiet.asked == []


def test_a_delhivery_push_listing_its_scans_applies_each_oldest_first_the_pickup_included() -> None:
    """The push's Status is a delivery; its Scans (listed newest first) hold the missed pickup."""
    courier = delhivery.DelhiveryCourier(None, token="t", webhook_token="hook")  # type: ignore[arg-type]

    def scan(kind: str, name: str, code: str, at: str) -> dict[str, object]:
        return {"ScanDetail": {"ScanType": kind, "Scan": name, "StatusCode": code, "ScanDateTime": at}}

    body = json.dumps(
        {
            "Shipment": {
                "AWB": "149",
                "Status": {
                    "Status": "Delivered",
                    "StatusType": "DL",
                    "StatusCode": "EOD-38",
                    "StatusDateTime": "2026-11-27T15:00:00",
                },
                "Scans": [
                    scan("DL", "Delivered", "EOD-38", "2026-11-27T15:00:00"),
                    scan("UD", "In Transit", "X-PPOM", "2026-11-26T18:10:52"),
                    scan("UD", "Manifested", "X-UCI", "2026-11-26T14:31:48"),
                ],
            }
        }
    ).encode()

    read = courier.read_webhook({"authorization": "Token hook"}, body)

    assert [(s.code, s.status) for s in read] == [
        ("X-UCI", None),
        ("X-PPOM", S.PICKED_UP),
        ("EOD-38", S.DELIVERED),  # the Status repeats the last scan: once
    ]


def test_an_xpressbees_push_with_its_history_applies_every_event_in_time_order() -> None:
    courier = xpressbees.XpressbeesCourier(None, email="e", password="p", webhook_secret="s")  # type: ignore[arg-type]
    body = json.dumps(
        {
            "awb_number": "7",
            "status_code": "OFD",
            "event_time": "2026-11-27T09:00:00+05:30",
            "history": [
                {"status_code": "IT", "event_time": "2026-11-26T20:00:00+05:30"},
                {"status_code": "PU", "event_time": "2026-11-26T12:00:00+05:30"},
            ],
        }
    ).encode()

    read = courier.read_webhook({"x-xb-signature": xpressbees.sign("s", body)}, body)

    assert [s.status for s in read] == [S.PICKED_UP, S.IN_TRANSIT, S.OUT_FOR_DELIVERY]
