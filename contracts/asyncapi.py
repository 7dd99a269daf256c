"""The event catalog for downstream teams: an AsyncAPI 3.0 document built from the contract models.

`python -m contracts.asyncapi write` refreshes docs/asyncapi.json; `check` fails when it is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from contracts._base import Event
from contracts.channel import ChannelOrder
from contracts.registry import EVENTS
from contracts.topics import DEFAULT_PARTITIONS

CATALOG = Path(__file__).resolve().parents[1] / "docs" / "asyncapi.json"

_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 binary content mode on Kafka headers, plus W3C trace context.",
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "UUIDv7; consumers dedupe on it"},
        "ce_type": {"type": "string", "description": "dabba.<topic>"},
        "ce_source": {"type": "string", "description": "the producing service"},
        "ce_time": {"type": "string", "format": "date-time", "description": "when it happened"},
        "ce_subject": {"type": "string", "description": "the order id or SKU"},
        "content-type": {"type": "string", "const": "application/json"},
        "traceparent": {"type": "string", "description": "W3C trace context"},
    },
    "required": ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "content-type"],
}


def _key(model: type[Event]) -> str:
    if model is ChannelOrder:
        return "channel:channel_order_id, e.g. shopify:SHP-1001"
    return model.KEY_FIELD


_WRITERS = {
    "channel": "channel adapters (ours and third-party)",
    "payments": "the orders service (gateway webhooks, COD replies)",
}


def _producer(topic: str) -> str:
    domain = topic.split(".")[0]
    return _WRITERS.get(domain, f"the {domain} service")


def catalog() -> dict[str, Any]:
    """The AsyncAPI document: one channel per topic, one message per event, shared schemas."""
    _, top = models_json_schema(
        [(model, "serialization") for model in EVENTS], ref_template="#/components/schemas/{model}"
    )
    schemas = top.get("$defs", {})
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for model in EVENTS:
        name = model.__name__
        messages[name] = {
            "name": model.ce_type(),
            "title": name,
            "summary": (model.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": _HEADERS,
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {"kafka": {"key": {"type": "string", "description": _key(model)}}},
        }
        channels[model.TOPIC.replace(".", "_")] = {
            "address": model.TOPIC,
            "description": f"Written by {_producer(model.TOPIC)}; key: {_key(model)}.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {"kafka": {"topic": model.TOPIC, "partitions": DEFAULT_PARTITIONS}},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Dabba events",
            "version": "1",
            "description": "Every topic Dabba publishes or accepts. Inside a major version fields are only "
            "added (optional) and enums only widened; consumers ignore unknown fields.",
        },
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "localhost:9092", "protocol": "kafka"}},
        "channels": channels,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    """The catalog as stable, sorted JSON text."""
    return json.dumps(catalog(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    """write | check."""
    action = sys.argv[1] if len(sys.argv) > 1 else "check"
    if action == "write":
        CATALOG.write_text(render())
        print(f"asyncapi: wrote {CATALOG.name} ({len(catalog()['channels'])} topics)")
        return 0
    if CATALOG.exists() and CATALOG.read_text() == render():
        print(f"asyncapi: {CATALOG.name} is up to date")
        return 0
    print("asyncapi: docs/asyncapi.json is stale; run `python -m contracts.asyncapi write`")
    return 1


if __name__ == "__main__":
    sys.exit(main())
