"""A consumed event's span when nothing is exported: the producer's trace, built without the SDK."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from chassis import telemetry
from chassis.telemetry import consume_span, current_traceparent, trace_id_of, unrecorded_span

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE}-00f067aa0ba902b7-01"


def test_an_unrecorded_span_continues_the_producers_trace_with_a_span_of_its_own() -> None:
    span = unrecorded_span(PARENT, "vendor=1")
    ctx = span.get_span_context()
    assert format(ctx.trace_id, "032x") == TRACE
    assert ctx.span_id not in (0, 0x00F067AA0BA902B7)
    assert not span.is_recording() and not ctx.trace_flags.sampled
    assert ctx.trace_state.to_header() == "vendor=1"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"ff-{TRACE}-00f067aa0ba902b7-01",
        f"00-{'0' * 32}-00f067aa0ba902b7-01",
        f"00-{TRACE}-{'0' * 16}-01",
        f"00-{'z' * 32}-00f067aa0ba902b7-01",
    ],
)
def test_a_missing_or_malformed_traceparent_starts_a_new_trace(header: str | None) -> None:
    first, second = unrecorded_span(header).get_span_context(), unrecorded_span(header).get_span_context()
    assert first.is_valid and second.is_valid
    assert first.trace_id != second.trace_id
    assert format(first.trace_id, "032x") != TRACE


def test_with_nothing_exported_the_handler_runs_in_the_producers_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(telemetry, "_recording", [False])
    with consume_span("orders.placed.v1 process", traceparent=PARENT, **{"messaging.destination": "t"}):
        outgoing, _ = current_traceparent()
        assert isinstance(trace.get_current_span(), trace.NonRecordingSpan)
    assert trace_id_of(outgoing) == TRACE
    assert outgoing is not None and outgoing.endswith("-00")
    assert current_traceparent() == (None, None), "the span ends with the handler"
