"""What an MSG91 delivery report (DLR) says, read from its documented webhook shape (ADR 0310).

MSG91's SMS webhook (version 2, the SMS panel's default) posts ``application/x-www-form-urlencoded``
with one field, ``data``: a JSON array of requests, each ``{"requestId", "senderId", "userId",
"campaignName", "report": [{"number", "status", "desc", "date", "failedReason", ...}]}``. The
request id is the one our flow call got back (``{"message": <request id>, "type": "success"}``),
which the dispatcher records as the message's provider id. Status ``1`` is delivered; ``2`` failed,
``9`` NDNC, ``16``/``25`` rejected and ``17`` a blocked number are failures; any other code is not a
final report we know and is skipped. Pure functions: no I/O.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from chassis import text
from chassis.refusal import Refusal
from services.notifications.domain.delivery import Delivery
from services.notifications.domain.replies import StatusUpdate

DELIVERED_CODES = frozenset({"1"})
FAILED_CODES = {
    "2": "failed",
    "9": "NDNC (promotional SMS to a do-not-disturb number)",
    "16": "rejected",
    "17": "blocked number",
    "25": "rejected",
}


def report_status(code: str) -> Delivery | None:
    """The delivery an MSG91 report status code means; None for a code that is not final."""
    if code in DELIVERED_CODES:
        return Delivery.DELIVERED
    if code in FAILED_CODES:
        return Delivery.FAILED
    return None


def _requests(raw: bytes) -> list[Any]:
    """The ``data`` array of a v2 webhook body, or a Refusal naming what is wrong with it."""
    try:
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refusal("body", f"not a form-urlencoded MSG91 report: {exc}") from None
    values = form.get("data")
    if not values:
        raise Refusal("data", "missing: MSG91 posts its reports as data=<JSON array>")
    body = values[0]  # the form field MSG91 sends, still JSON text off the wire
    try:
        requests = text.parsed(body)
    except text.MalformedJson as exc:
        raise Refusal("data", str(exc)) from None
    if not isinstance(requests, list):
        raise Refusal("data", "must be a JSON array of requests")
    return requests


def delivery_reports(raw: bytes) -> list[StatusUpdate]:
    """Every final report in a webhook body, in the order MSG91 listed them. A malformed body is
    refused whole (nothing applied), naming the first bad field."""
    found: list[StatusUpdate] = []
    for i, request in enumerate(_requests(raw)):
        where = f"data[{i}]"
        if not isinstance(request, dict):
            raise Refusal(where, "must be an object")
        request_id = request.get("requestId")
        if not isinstance(request_id, str) or not request_id.strip():
            raise Refusal(f"{where}.requestId", "missing: the request id MSG91 answered our send with")
        report = request.get("report")
        if not isinstance(report, list):
            raise Refusal(f"{where}.report", "must be a list of reports")
        for j, item in enumerate(report):
            if not isinstance(item, dict):
                raise Refusal(f"{where}.report[{j}]", "must be an object")
            code = str(item.get("status", "")).strip()
            if not code:
                raise Refusal(f"{where}.report[{j}].status", "missing")
            status = report_status(code)
            if status is None:
                continue
            number = "".join(ch for ch in str(item.get("number") or "") if ch.isdigit())
            reason = str(item.get("failedReason") or item.get("desc") or FAILED_CODES.get(code, "")) or None
            found.append(
                StatusUpdate(
                    provider_message_id=request_id.strip(),
                    status=status,
                    error=reason if status is Delivery.FAILED else None,
                    error_code=int(code),
                    recipient="+" + number if number else None,
                )
            )
    return found
