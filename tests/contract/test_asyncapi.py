"""The AsyncAPI catalog downstream teams read is complete, resolvable and up to date."""

from __future__ import annotations

import json
import re

from contracts import asyncapi
from contracts.registry import EVENTS, all_topics


def test_the_committed_catalog_matches_the_models() -> None:
    assert asyncapi.CATALOG.read_text() == asyncapi.render(), "run `python -m contracts.asyncapi write`"


def test_every_topic_has_a_channel_with_its_message_and_key() -> None:
    doc = asyncapi.catalog()
    assert sorted(c["address"] for c in doc["channels"].values()) == sorted(all_topics())
    for model in EVENTS:
        message = doc["components"]["messages"][model.__name__]
        assert message["name"] == model.ce_type()
        assert message["bindings"]["kafka"]["key"]["description"]


def test_every_reference_in_the_catalog_resolves() -> None:
    doc = asyncapi.catalog()
    text = json.dumps(doc)
    for ref in set(re.findall(r'"\$ref": "#/([^"]+)"', text)):
        node = doc
        for part in ref.split("/"):
            assert part in node, f"#/{ref} does not resolve"
            node = node[part]
