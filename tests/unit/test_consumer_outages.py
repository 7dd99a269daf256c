"""Which errors are an outage (wait it out) and which mean a bad event (bounded tries, then the DLQ)."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, MessageSizeTooLargeError

from chassis.consumer import Poison, is_outage, outage_backoff


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError(),  # the pool could not hand out a connection in time
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.exceptions.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        asyncpg.InterfaceError("cannot call Connection.execute(): connection is closed"),
        KafkaConnectionError("Unable to bootstrap from localhost:9092"),
        KafkaTimeoutError(),
    ],
)
def test_a_lost_database_or_broker_is_an_outage_not_a_bad_event(error: Exception) -> None:
    assert is_outage(error)


@pytest.mark.parametrize(
    "error",
    [
        Poison("ce_type does not belong here"),
        ValueError("return RET-1 is RESTOCKED without a warehouse_code"),
        asyncpg.exceptions.CheckViolationError("violates check constraint"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        MessageSizeTooLargeError(),
    ],
)
def test_a_bad_event_is_not_an_outage(error: Exception) -> None:
    assert not is_outage(error)


def test_outage_waits_double_up_to_a_cap() -> None:
    waits = [outage_backoff(n, base_s=0.2, cap_s=5) for n in range(1, 8)]
    assert waits == [0.2, 0.4, 0.8, 1.6, 3.2, 5, 5]
    assert outage_backoff(10_000, base_s=0.2, cap_s=5) == 5
