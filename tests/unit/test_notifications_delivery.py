"""When messages go out: quiet hours for non-urgent ones, a rate limit per provider, retry backoff,
and delivery statuses that only move forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.domain.delivery import (
    Delivery,
    QuietHours,
    advance,
    moved_by,
    retry_delay,
    send_at,
    waits_for_status_until,
)

QUIET = QuietHours()  # 21:00-09:00 IST


def ist(hour: int, minute: int = 0, day: int = 26) -> datetime:
    """A moment given in IST, as the UTC datetime the service works with."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=5, minutes=30)


def test_a_shipped_message_planned_at_11_pm_waits_until_9_am():
    assert send_at(ist(23, 10), urgent=False, quiet=QUIET) == ist(9, 0, day=27)


def test_a_message_planned_just_after_midnight_waits_until_9_am_the_same_day():
    assert send_at(ist(0, 30, day=27), urgent=False, quiet=QUIET) == ist(9, 0, day=27)


def test_an_urgent_message_ignores_quiet_hours():
    assert send_at(ist(23, 10), urgent=True, quiet=QUIET) == ist(23, 10)


@pytest.mark.parametrize("hour", [9, 12, 20])
def test_daytime_messages_go_at_once(hour):
    assert send_at(ist(hour, 0), urgent=False, quiet=QUIET) == ist(hour, 0)


def test_quiet_hours_within_a_day_work_too():
    lunch = QuietHours.parse("13:00-14:00")

    assert lunch is not None
    assert send_at(ist(13, 30), urgent=False, quiet=lunch) == ist(14, 0)
    assert send_at(ist(14, 0), urgent=False, quiet=lunch) == ist(14, 0)


def test_no_quiet_hours_configured_sends_at_once():
    assert QuietHours.parse("") is None
    assert send_at(ist(23, 0), urgent=False, quiet=None) == ist(23, 0)


@pytest.mark.parametrize("spec", ["9-21", "21:00", "21:00-21:00"])
def test_a_bad_quiet_hours_setting_is_refused(spec):
    with pytest.raises(ValueError, match="quiet hours"):
        QuietHours.parse(spec)


def test_retries_back_off_doubling_up_to_a_cap():
    delays = [retry_delay(attempt, base_s=1, cap_s=10).total_seconds() for attempt in range(1, 7)]

    assert delays == [1, 2, 4, 8, 10, 10]


def test_delivery_status_only_moves_forward():
    assert advance(Delivery.SENT, Delivery.DELIVERED) is Delivery.DELIVERED
    assert advance(Delivery.READ, Delivery.DELIVERED) is None, "a late 'delivered' after 'read'"
    assert advance(Delivery.DELIVERED, Delivery.DELIVERED) is None, "a repeated callback"
    assert advance(Delivery.SENT, Delivery.FAILED) is Delivery.FAILED
    assert advance(Delivery.FAILED, Delivery.READ) is None, "failed is final"
    assert advance(Delivery.QUEUED, Delivery.READ) is Delivery.READ, "a callback may skip steps"


def test_a_status_webhook_moves_a_message_only_from_an_earlier_state():
    assert moved_by(Delivery.SENT) == {Delivery.QUEUED}
    assert moved_by(Delivery.DELIVERED) == {Delivery.QUEUED, Delivery.SENT}
    assert moved_by(Delivery.READ) == {Delivery.QUEUED, Delivery.SENT, Delivery.DELIVERED}
    assert moved_by(Delivery.FAILED) == {Delivery.QUEUED, Delivery.SENT, Delivery.DELIVERED, Delivery.READ}


START = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
GRACE = timedelta(seconds=120)


def test_a_message_never_tried_or_whose_tries_all_recorded_an_outcome_goes_at_once():
    assert waits_for_status_until(None, now=START, grace=GRACE) is None


def test_a_try_that_died_without_an_outcome_waits_for_metas_status_from_its_start():
    # Claimed again when the 30 s lease expired: 90 s more for the webhook that names it.
    assert waits_for_status_until(START, now=START + timedelta(seconds=30), grace=GRACE) == START + GRACE


def test_when_no_status_came_within_the_grace_the_message_is_sent_again():
    assert waits_for_status_until(START, now=START + GRACE, grace=GRACE) is None
    assert waits_for_status_until(START, now=START + timedelta(minutes=10), grace=GRACE) is None


def test_a_grace_shorter_than_the_lease_adds_no_wait():
    assert (
        waits_for_status_until(START, now=START + timedelta(seconds=30), grace=timedelta(seconds=10)) is None
    )
