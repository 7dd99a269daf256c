"""MSG91 delivery reports: read from MSG91's documented webhook (v2) shape, and settled by the first
final report; a replay or a late report changes nothing (ADR 0310)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from chassis.refusal import Refusal
from sandbox.sms_msg91 import report_body
from services.notifications.domain.delivery import Delivery, settled_by_report
from services.notifications.domain.reports import delivery_reports, report_status

# MSG91's own sample of a v2 report ("How to use Webhook to get the delivery report on the desired
# URL?", msg91.com/help), as its form field arrives.
DOCUMENTED = (
    '[{"senderId":"uXXXXm","requestId":"346XXXXXXXXXXXX130","report":[{"date":"2024-05-22 10:06:20",'
    '"amount":"0.01","clientid":"","INMSID":"0","CRQID":"0","ctCode":"900","number":"9195XXXX6558",'
    '"credit":"1","status":"1","desc":"DELIVERED","failedReason":""}],"userId":"27XXXX",'
    '"campaignName":"Sendhttp"}]'
)


def form(data: object) -> bytes:
    return urlencode({"data": data if isinstance(data, str) else json.dumps(data)}).encode()


def test_msg91s_documented_sample_is_a_delivered_report_for_its_request_id() -> None:
    [report] = delivery_reports(form(DOCUMENTED))

    assert report.provider_message_id == "346XXXXXXXXXXXX130"
    assert report.status is Delivery.DELIVERED
    assert report.error is None and report.error_code == 1
    assert report.recipient == "+9195" + "6558"


@pytest.mark.parametrize(
    ("code", "reason"), [("2", "Failed"), ("9", "NDNC"), ("16", "Rejected"), ("17", "Blocked")]
)
def test_every_documented_failure_code_is_a_failure_with_its_reason(code: str, reason: str) -> None:
    requests = [
        {"requestId": "REQ-1", "report": [{"number": "919812345678", "status": code, "desc": reason}]}
    ]

    [report] = delivery_reports(form(requests))

    assert (report.status, report.error_code, report.error) == (Delivery.FAILED, int(code), reason)


def test_a_code_that_is_not_final_is_skipped_and_the_rest_of_the_body_still_read() -> None:
    requests = [
        {"requestId": "REQ-1", "report": [{"number": "919812345678", "status": "8", "desc": "SUBMITTED"}]},
        {"requestId": "REQ-2", "report": [{"number": "919812345679", "status": "1", "desc": "DELIVERED"}]},
    ]

    assert [r.provider_message_id for r in delivery_reports(form(requests))] == ["REQ-2"]
    assert report_status("8") is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"", "data"),
        (urlencode({"other": "x"}).encode(), "data"),
        (form("not json"), "data"),
        (form({"requestId": "REQ-1"}), "data"),
        (form(["x"]), "data[0]"),
        (form([{"report": []}]), "data[0].requestId"),
        (form([{"requestId": "REQ-1"}]), "data[0].report"),
        (form([{"requestId": "REQ-1", "report": [{"number": "91"}]}]), "data[0].report[0].status"),
        (b"\xff\xfe", "body"),
    ],
)
def test_a_malformed_report_is_refused_naming_the_field(body: bytes, field: str) -> None:
    with pytest.raises(Refusal) as refused:
        delivery_reports(body)

    assert [f for f, _ in refused.value.problems] == [field]


def test_the_first_final_report_stands() -> None:
    assert settled_by_report(Delivery.SENT, Delivery.DELIVERED) is Delivery.DELIVERED
    assert settled_by_report(Delivery.SENT, Delivery.FAILED) is Delivery.FAILED
    # A replay, a late failure after delivery, a late delivery after failure: nothing changes.
    assert settled_by_report(Delivery.DELIVERED, Delivery.DELIVERED) is None
    assert settled_by_report(Delivery.DELIVERED, Delivery.FAILED) is None
    assert settled_by_report(Delivery.FAILED, Delivery.DELIVERED) is None
    assert settled_by_report(Delivery.FAILED, Delivery.FAILED) is None


def test_the_sandboxs_report_is_the_documented_shape() -> None:
    [report] = delivery_reports(urlencode(report_body("abc123", "919812345678", "17")).encode())

    assert (report.provider_message_id, report.status, report.error_code) == ("abc123", Delivery.FAILED, 17)
    assert report.recipient == "+919812345678"


def test_a_report_that_is_not_json_says_where_it_breaks() -> None:
    with pytest.raises(Refusal) as refused:
        delivery_reports(form('[{"requestId": }]'))

    assert refused.value.problems == [("data", "malformed JSON at character 15: Expecting value")]
