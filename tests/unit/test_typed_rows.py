"""Rows stop at the store: above `store.py` (and the `records.py` it builds from) no service module
names `asyncpg.Record` or parses JSON read from the database, and no public function of a store hands
one up (a private helper inside the store may turn a row into a record).

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
# Modules that hold SQL like a store without the name: their public functions hand up records too.
STORE_LIKE = {Path("shipping/reference.py")}


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


def _record_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """How this module can name asyncpg and its Record: (the module's aliases, Record's aliases)."""
    modules, records = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == "asyncpg"}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("asyncpg"):
            records |= {a.asname or a.name for a in node.names if a.name == "Record"}
    return modules, records


def _names_a_record(annotation: ast.expr, modules: set[str], records: set[str]) -> bool:
    for node in ast.walk(annotation):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a quoted annotation
            if _names_a_record(ast.parse(node.value, mode="eval").body, modules, records):
                return True
        if isinstance(node, ast.Name) and node.id in records:
            return True
        if isinstance(node, ast.Attribute) and node.attr == "Record":
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in modules:
                return True
    return False


def rows_handed_up(source: str) -> list[tuple[int, str]]:
    """(line, function) for every public module-level function of a store that is declared to
    return an asyncpg Record (alone, optional, or inside a list, dict or tuple) or declares nothing."""
    tree = ast.parse(source)
    modules, records = _record_names(tree)
    return [
        (node.lineno, node.name)
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and not node.name.startswith("_")
        and (node.returns is None or _names_a_record(node.returns, modules, records))
    ]


def _stores() -> list[Path]:
    return [
        path
        for path in SERVICES.rglob("*.py")
        if path.name == "store.py"
        or path.name.endswith("_store.py")
        or path.relative_to(SERVICES) in STORE_LIKE
    ]


def test_the_check_sees_a_store_function_handing_up_a_record_in_any_shape() -> None:
    handed_up = """
import asyncpg
from asyncpg import Record as Row
async def one(conn) -> asyncpg.Record | None: ...
async def page(conn) -> list[asyncpg.Record]: ...
async def keyed(conn) -> dict[str, asyncpg.Record]: ...
async def pair(conn) -> tuple[asyncpg.Record | None, list[Row]]: ...
async def quoted(conn) -> "list[asyncpg.Record]": ...
async def silent(conn): ...
"""
    assert [name for _, name in rows_handed_up(handed_up)] == [
        "one",
        "page",
        "keyed",
        "pair",
        "quoted",
        "silent",
    ]
    typed = """
import asyncpg
def _order(row: asyncpg.Record) -> Order: ...
async def order(conn) -> Order | None: ...
async def orders(conn) -> list[Order]: ...
"""
    assert rows_handed_up(typed) == []


def test_no_store_hands_a_record_up_to_the_code_above_it() -> None:
    stores = _stores()
    assert len(stores) >= 10 and SERVICES / "shipping" / "reference.py" in stores
    offenders = [
        f"{path.relative_to(SERVICES)}:{line} {name}"
        for path in stores
        for line, name in rows_handed_up(path.read_text())
    ]
    assert offenders == []
