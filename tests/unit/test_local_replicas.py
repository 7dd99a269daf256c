"""The local runner's replicas (DABBA_REPLICAS): names, ports and the processes a stack runs."""

from __future__ import annotations

import pytest

from deploy.local.ports import OFFSET, PORTS, port_of, replica_of, service_of
from deploy.local.stack import SERVICES, Stack, replicas_from_env


def test_one_replica_is_the_stack_as_it_always_was() -> None:
    stack = Stack(replicas=1)
    assert stack.instances() == ["sandbox", *SERVICES]
    assert [port_of(name) for name in stack.instances()] == [PORTS[name] for name in ("sandbox", *SERVICES)]


def test_two_replicas_run_every_service_twice_and_the_sandbox_once() -> None:
    names = Stack(replicas=2).instances()
    assert names == ["sandbox", *SERVICES, *(f"{s}-2" for s in SERVICES)]
    assert service_of("orders-2") == "orders" and replica_of("orders-2") == 2
    assert service_of("orders") == "orders" and replica_of("orders") == 1


def test_each_replica_has_its_own_port_within_the_stacks_hundred() -> None:
    ports = [port_of(name) for name in Stack(replicas=4).instances()]
    assert len(set(ports)) == len(ports)
    assert all(8000 + OFFSET <= port < 8100 + OFFSET for port in ports)
    assert port_of("orders-2") == PORTS["orders"] + 20


@pytest.mark.parametrize("raw", ["0", "5", "two", "-1"])
def test_a_replica_count_out_of_range_is_refused_by_name(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DABBA_REPLICAS", raw)
    with pytest.raises(ValueError, match=f"DABBA_REPLICAS must be a whole number from 1 to 4, not '{raw}'"):
        replicas_from_env()


def test_no_replica_count_means_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DABBA_REPLICAS", raising=False)
    assert replicas_from_env() == 1
