"""What a process's dispatcher is sending and has recorded, as its status webhooks see it: a status
about a message in a round waits for that round, and a "sent" status of a send it recorded needs no
statement (ADR 0515)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from services.notifications import inbound
from services.notifications.domain.delivery import Delivery
from services.notifications.domain.replies import StatusUpdate
from services.notifications.sending import Sending


async def test_a_status_about_a_message_in_a_round_waits_until_that_round_is_over() -> None:
    sending = Sending()
    over = sending.started(["msg-1", "msg-2"])
    waiting = asyncio.create_task(sending.settled(["msg-2"], wait_s=60))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiting.done()
    assert sending.in_flight("msg-1")

    sending.finished(["msg-1", "msg-2"], over, recorded=["wamid-1"])

    await asyncio.wait_for(waiting, 60)
    assert not sending.in_flight("msg-1") and not sending.in_flight("msg-2")
    assert sending.recorded("wamid-1") and not sending.recorded("wamid-2")


async def test_a_message_in_no_round_does_not_wait_and_a_round_that_outlives_the_wait_is_left() -> None:
    sending = Sending()
    await asyncio.wait_for(sending.settled(["msg-1"], wait_s=60), 60)  # in no round: at once

    sending.started(["msg-1"])
    await sending.settled(["msg-1"], wait_s=0.001)  # gives up; the database path takes over
    assert sending.in_flight("msg-1")


def test_an_earlier_round_ending_leaves_a_later_round_of_the_same_message_in_flight() -> None:
    sending = Sending()
    first = sending.started(["msg-1"])
    second = sending.started(["msg-1"])  # claimed again after its lease expired

    sending.finished(["msg-1"], first, recorded=[])

    assert sending.in_flight("msg-1") and first.is_set() and not second.is_set()


def test_only_the_latest_recorded_sends_are_remembered() -> None:
    sending = Sending(remembered=2)
    for n in range(3):
        sending.finished([], sending.started([]), recorded=[f"wamid-{n}"])

    assert [sending.recorded(f"wamid-{n}") for n in range(3)] == [False, True, True]


@dataclass
class NoDatabase:
    """A service whose pool must not be used."""

    name: str = "notifications"

    @property
    def pool(self) -> Any:
        raise AssertionError("a statement was spent")


async def test_a_sent_status_of_a_send_this_process_recorded_costs_no_statement() -> None:
    sending = Sending()
    sending.finished([], sending.started([]), recorded=["wamid-1"])
    sent = StatusUpdate("wamid-1", Delivery.SENT, message_id="msg-1", recipient="+919812345678")

    applied = await inbound.apply(NoDatabase(), [sent], sending=sending)  # type: ignore[arg-type]

    assert applied == {"statuses": 0, "replies": 0, "opt_outs": 0, "tickets": 0}


async def test_a_delivered_status_or_a_sent_one_of_a_send_recorded_elsewhere_goes_to_the_database() -> None:
    sending = Sending()
    sending.finished([], sending.started([]), recorded=["wamid-1"])
    for notice in (
        StatusUpdate("wamid-1", Delivery.DELIVERED, message_id="msg-1"),
        StatusUpdate("wamid-2", Delivery.SENT, message_id="msg-2"),
    ):
        try:
            await inbound.apply(NoDatabase(), [notice], sending=sending)  # type: ignore[arg-type]
        except AssertionError as exc:
            assert "statement" in str(exc)
        else:
            raise AssertionError(f"{notice} was not applied")
