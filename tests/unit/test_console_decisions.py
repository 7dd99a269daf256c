"""The console's small decisions: actions per status, sign-in lockout, cursors, search, the numbers,
and the sentence an operator reads when an owning service refuses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from services.console.api import templates
from services.console.domain.decisions import (
    LockoutPolicy,
    after_failed_sign_in,
    byline,
    decode_cursor,
    encode_cursor,
    is_locked,
    order_actions,
    parse_day,
    parse_search,
    return_actions,
    shipment_actions,
    show_day,
    tabs_of,
)
from services.console.domain.metrics import orders_by_channel_and_day, return_rates
from services.console.domain.view import OrderView, ReturnView, ShipmentView
from services.console.owners import explain

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def view(status: str) -> OrderView:
    return OrderView(order_id="ORD-1", first_seen_at=NOW, updated_at=NOW, status=status)


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        ("PENDING_COD_CONFIRMATION", ["cod_confirm", "cod_decline", "hold", "cancel"]),
        ("ON_HOLD", ["release", "cancel"]),
        ("CONFIRMED", ["cancel"]),
        ("SHIPPED", []),
        ("DELIVERED", []),
        ("REJECTED", []),
    ],
)
def test_an_order_offers_the_actions_its_status_allows(status: str, actions: list[str]) -> None:
    assert order_actions(view(status)) == actions


def test_parcels_and_returns_offer_their_next_step() -> None:
    assert shipment_actions("AWB_ASSIGNED") == ["pack"]
    assert shipment_actions("CREATED") == ["book"]  # no courier took it
    assert shipment_actions("NDR") == ["ndr_reattempt", "ndr_rto"]
    assert shipment_actions("IN_TRANSIT") == []
    assert return_actions("PICKED_UP") == ["receive"]
    assert return_actions("RECEIVED") == ["qc"]
    assert return_actions("REFUNDED") == []


def test_the_fifth_wrong_password_in_a_row_locks_the_account_for_fifteen_minutes() -> None:
    policy = LockoutPolicy(failures=5, minutes=15)
    failures, locked = 0, None
    for _ in range(4):
        failures, locked = after_failed_sign_in(failures, NOW, policy)
        assert locked is None
    failures, locked = after_failed_sign_in(failures, NOW, policy)
    assert locked == NOW + timedelta(minutes=15)
    assert is_locked(locked, NOW + timedelta(minutes=14))
    assert not is_locked(locked, NOW + timedelta(minutes=15))


def test_a_cursor_names_the_last_row_and_a_forged_one_is_refused() -> None:
    assert decode_cursor(encode_cursor(NOW, "ORD-9")) == (NOW, "ORD-9")
    with pytest.raises(ValueError, match="cursor"):
        decode_cursor("not-a-cursor")


@pytest.mark.parametrize(
    ("query", "digits"),
    [
        ("+91 98123-45678", "9812345678"),
        ("098123 45678", "9812345678"),
        ("45678", "45678"),
        ("(981) 234", "981234"),
        ("Asha", None),
        ("SHP-1001", None),
        ("123", None),
    ],
)
def test_a_phone_in_any_format_searches_by_its_digits(query: str, digits: str | None) -> None:
    search = parse_search(query)
    assert search is not None
    assert search.digits == digits
    assert search.text == query.strip().lower()


def test_an_empty_search_is_no_search() -> None:
    assert parse_search("   ") is None


def test_return_rate_by_sku_and_reason_matches_a_count_by_hand() -> None:
    # Sold: 20 tea, 10 kurtas, 4 cables. Returned: 2 kurtas too small, 1 kurta damaged, 1 tea
    # wrong item, and 1 mug from an order older than the window (sold 0 here).
    rates = return_rates(
        {"TEA": 20, "KURTA-M": 10, "CABLE": 4},
        [
            ("KURTA-M", "size_issue", 2),
            ("KURTA-M", "damaged", 1),
            ("TEA", "wrong_item", 1),
            ("MUG", "other", 1),
        ],
    )
    by_sku = {r.sku: r for r in rates}
    assert by_sku["KURTA-M"].percent == 30.0
    assert by_sku["KURTA-M"].by_reason == {"damaged": 1, "size_issue": 2}
    assert by_sku["TEA"].percent == 5.0
    assert by_sku["CABLE"].percent == 0.0 and by_sku["CABLE"].returned == 0
    assert by_sku["MUG"].percent == 0.0 and by_sku["MUG"].returned == 1
    assert [r.sku for r in rates][:2] == ["KURTA-M", "TEA"], "highest rate first"


def test_orders_per_channel_per_day_fill_a_table() -> None:
    days, channels, counts = orders_by_channel_and_day(
        [("2026-12-02", "shopify", 3), ("2026-12-01", "amazon", 2), ("2026-12-02", "amazon", 1)]
    )
    assert days == ["2026-12-01", "2026-12-02"]
    assert channels == ["amazon", "shopify"]
    assert counts[("2026-12-02", "shopify")] == 3 and ("2026-12-01", "shopify") not in counts


def test_a_refusal_reads_as_one_sentence_whatever_shape_the_service_answers() -> None:
    body = {"error": "forbidden", "problems": [{"field": "X-API-Key", "problem": "role viewer may not"}]}
    assert explain(403, body) == "forbidden: X-API-Key: role viewer may not"
    assert explain(404, {"detail": "no return RET-1"}) == "no return RET-1"
    assert explain(502, "Bad gateway") == "refused (502)"
    assert explain(200, {}) == "done"


def test_durations_on_the_analytics_page_read_in_minutes_hours_or_days() -> None:
    hours = templates.env.filters["hours"]
    assert [hours(h) for h in (None, 0.25, 30.67, 96.0)] == ["—", "15 min", "30.7 h", "4.0 days"]


def test_a_timeline_line_that_names_its_actor_does_not_name_them_twice() -> None:
    entered = "new → PLACED: received from manual, entered by admin:admin"
    assert byline(entered, "admin:admin") is None
    assert byline("PENDING_COD_CONFIRMATION → CONFIRMED: COD confirmed", "ops:asha") == "ops:asha"
    assert byline("placed on shopify as SHP-1", None) is None
    page = templates.env.from_string(
        "{% for t in timeline %}<li>{{ t.text }}{% set by = byline(t.text, t.actor) %}"
        "{% if by %} <i>by {{ by }}</i>{% endif %}</li>{% endfor %}"
    ).render(timeline=[{"text": entered, "actor": "admin:admin"}])
    assert page.count("admin:admin") == 1


def test_an_order_is_in_the_tabs_of_what_needs_a_person_about_it() -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    confirmed = OrderView("ORD-1", at, at, status="CONFIRMED", promised_dispatch_by=at)
    assert tabs_of(confirmed, ndr_open=False, return_open=False) == ["all", "dispatch_due"]
    picked = replace(confirmed, status="SHIPPED", milestones={"picked_up": at})
    assert tabs_of(picked, ndr_open=False, return_open=False) == ["all"]
    stuck = replace(confirmed, unroutable_at=at, status="ON_HOLD", promised_dispatch_by=None)
    assert tabs_of(stuck, ndr_open=False, return_open=False) == ["all", "on_hold", "unroutable"]
    assert "unroutable" not in tabs_of(replace(stuck, status="CANCELLED"), ndr_open=False, return_open=False)
    unbooked = replace(confirmed, shipments=(ShipmentView("SHP-1", "GGN1", "unassigned", status="CREATED"),))
    assert "no_courier" in tabs_of(unbooked, ndr_open=False, return_open=False)
    overdue = replace(confirmed, returns=(ReturnView("RET-1", "QC_PASSED", (), sla_breached=True),))
    assert "refund_overdue" in tabs_of(overdue, ndr_open=False, return_open=True)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("25/12/2026", date(2026, 12, 25)),
        ("5/1/2027", date(2027, 1, 5)),
        ("25-12-2026", date(2026, 12, 25)),
        ("25.12.2026", date(2026, 12, 25)),
        (" 2026-12-25 ", date(2026, 12, 25)),  # links and bookmarks made before dd/mm/yyyy
        ("", None),
    ],
)
def test_a_day_is_read_as_indian_operators_write_it_day_first(typed: str, day: date | None) -> None:
    assert parse_day(typed) == day


@pytest.mark.parametrize("typed", ["12/25/2026", "31/02/2026", "tomorrow", "2026-13-01", "25/12/26"])
def test_what_is_not_a_day_is_refused_saying_how_to_write_one(typed: str) -> None:
    with pytest.raises(ValueError, match=r"is not a day: write it dd/mm/yyyy"):
        parse_day(typed)


def test_a_day_is_shown_back_day_first_and_anything_else_as_typed() -> None:
    assert show_day("2026-12-05") == show_day("5/12/2026") == "05/12/2026"
    assert (show_day(""), show_day("12/25/2026")) == ("", "12/25/2026")
