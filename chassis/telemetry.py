"""OpenTelemetry tracing that follows an order across services through Kafka headers.

Spans always exist (so every log line has a trace id); exporting them is off unless configured.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags, TraceState
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_propagator = TraceContextTextMapPropagator()
_random = random.Random()


def configure_tracing(*, service: str, exporter: str = "none", otlp_endpoint: str = "") -> None:
    """Install the SDK tracer provider; export to console or OTLP/HTTP only when asked.

    With no exporter, spans are not recorded (ALWAYS_OFF): they still get ids, so trace ids reach
    every log line and every outgoing traceparent, but nothing is built that nobody would read."""
    sampler = ALWAYS_OFF if exporter == "none" else ParentBased(ALWAYS_ON)
    provider = TracerProvider(resource=Resource.create({"service.name": f"dabba-{service}"}), sampler=sampler)
    if exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif exporter == "otlp":
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces"))
        )
    trace.set_tracer_provider(provider)
    _tracer.clear()
    _recording[:] = [exporter != "none"]


_recording: list[bool] = []
"""[False] once tracing is configured with nothing to export: consume_span then skips the SDK."""


_tracer: list[trace.Tracer] = []


def tracer() -> trace.Tracer:
    """The Dabba tracer (looked up once: get_tracer is not free on a hot path)."""
    if not _tracer:
        _tracer.append(trace.get_tracer("dabba"))
    return _tracer[0]


def current_traceparent() -> tuple[str | None, str | None]:
    """The W3C traceparent/tracestate of the current span, to carry on an outgoing event."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent"), carrier.get("tracestate")


@contextmanager
def consume_span(
    name: str, *, traceparent: str | None, tracestate: str | None = None, **attributes: Any
) -> Iterator[Span]:
    """A CONSUMER span that continues the producer's trace (or starts one when there is none)."""
    if _recording == [False]:
        with trace.use_span(unrecorded_span(traceparent, tracestate), end_on_exit=False) as span:
            yield span
        return
    carrier = {"traceparent": traceparent} if traceparent else {}
    if tracestate:
        carrier["tracestate"] = tracestate
    parent = _propagator.extract(carrier) if carrier else otel_context.Context()
    with tracer().start_as_current_span(
        name, context=parent, kind=SpanKind.CONSUMER, attributes=attributes
    ) as span:
        yield span


def unrecorded_span(traceparent: str | None, tracestate: str | None = None) -> Span:
    """The span the SDK's ALWAYS_OFF sampler would give a consumer, built without the SDK (ADR 452):
    the producer's trace id (a new one when the header is missing or malformed), a new span id,
    not sampled. A third of a consumed event's chassis CPU went into extract and start_span."""
    trace_id = 0
    parts = traceparent.split("-") if traceparent else ()
    if len(parts) >= 4 and parts[0] != "ff" and len(parts[1]) == 32 and len(parts[2]) == 16:
        try:
            trace_id = int(parts[1], 16) if int(parts[2], 16) else 0
        except ValueError:
            trace_id = 0
    state = TraceState.from_header([tracestate]) if tracestate and trace_id else None
    return NonRecordingSpan(
        SpanContext(
            trace_id=trace_id or _random.getrandbits(128) or 1,
            span_id=_random.getrandbits(64) or 1,
            is_remote=False,
            trace_flags=TraceFlags(TraceFlags.DEFAULT),
            trace_state=state,
        )
    )


def trace_id_of(traceparent: str | None) -> str | None:
    """The 32-hex trace id inside a traceparent header."""
    if not traceparent:
        return None
    parts = traceparent.split("-")
    return parts[1] if len(parts) >= 3 else None
