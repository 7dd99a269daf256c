"""docs/design.md is the contract downstream teams read: its generated section is in step with
`contracts/`, and it names every topic, key and event field the models publish."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contracts import design_doc, topics
from contracts.registry import EVENTS

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "design.md").read_text()


def test_the_design_document_is_in_step_with_the_contract_models() -> None:
    assert design_doc.render(DOC) == DOC, "stale: run `python -m contracts.design_doc write`"


@pytest.mark.parametrize("model", EVENTS, ids=[m.TOPIC for m in EVENTS])
def test_every_event_is_documented_with_its_topic_key_and_every_field(model: type) -> None:
    section = DOC.split(f"#### {model.__name__}\n", 1)[1].split("\n#### ", 1)[0]
    assert f"`{model.TOPIC}`" in section and f"key `{design_doc._key(model)}`" in section
    for name, field in model.model_fields.items():
        row = next((line for line in section.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"{model.__name__}.{name} is not in docs/design.md"
        cells = re.split(r"(?<!\\)\|", row)
        assert cells[3].strip() == ("yes" if field.is_required() else "no"), row


def test_every_topic_constant_is_in_the_topics_table() -> None:
    names = [v for k, v in vars(topics).items() if k.isupper() and isinstance(v, str) and v.endswith(".v1")]
    table = DOC.split("### Topics", 1)[1].split("###", 1)[0]
    assert names and all(f"| `{name}` |" in table for name in names)


def test_a_changed_model_makes_the_document_stale() -> None:
    edited = DOC.replace("| `total_paise` | integer | yes |", "| `total_paise` | string | yes |", 1)
    assert edited != DOC and design_doc.render(edited) != edited


def test_the_readme_points_to_the_design_document_in_the_repository() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "docs/design.md" in readme
    assert "(`DESIGN.md`, shared with the team)" not in readme
