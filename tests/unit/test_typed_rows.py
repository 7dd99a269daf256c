"""Rows stop at the store: above `store.py` (and the `records.py` it builds from) no service module
names `asyncpg.Record` or parses JSON read from the database.

The pools decode jsonb (chassis.db.register_json_codec) and stores hand up frozen typed records, so
JSON text is parsed only where it arrives over the wire: a provider adapter, or a request body or
Kafka value (by convention named `raw` or `body`) in the route or handler that receives it.
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "services"
ROW_MODULES = {"store.py", "records.py"}
PROVIDER_ADAPTERS = {"couriers", "providers", "gateways", "stores"}
WIRE_NAMES = {"raw", "body"}


def row_handling(source: str) -> list[tuple[int, str]]:
    """(line, what) for every use of an untyped row or of JSON parsing of anything but a wire body."""
    found: list[tuple[int, str]] = []
    parsed_wire = set()
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and len(node.args) == 1:
            arg = node.args[0]
            if isinstance(arg, ast.Name) and arg.id in WIRE_NAMES:
                parsed_wire.add(id(node.func))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = f"{node.value.id}.{node.attr}"
            if name == "asyncpg.Record" or (name == "json.loads" and id(node) not in parsed_wire):
                found.append((node.lineno, name))
    return sorted(found)


def _above_the_store() -> list[Path]:
    def provider_adapter(path: Path) -> bool:
        return bool(PROVIDER_ADAPTERS & set(path.relative_to(SERVICES).parts[1:-1]))

    return [
        path for path in SERVICES.rglob("*.py") if path.name not in ROW_MODULES and not provider_adapter(path)
    ]


def test_the_check_sees_a_record_and_json_read_from_a_row() -> None:
    source = "import asyncpg, json\ndef f(row: asyncpg.Record):\n    return json.loads(row['lines'])\n"
    assert row_handling(source) == [(2, "asyncpg.Record"), (3, "json.loads")]
    assert row_handling("import json\ndef f(raw: bytes):\n    return json.loads(raw)\n") == []


def test_no_service_module_above_its_store_touches_a_record_or_json_from_a_row() -> None:
    modules = _above_the_store()
    assert len(modules) > 50  # every service's modules were found, not an empty folder
    offenders = [
        f"{path.relative_to(SERVICES)}:{line} {what}"
        for path in modules
        for line, what in row_handling(path.read_text())
    ]
    assert offenders == []
