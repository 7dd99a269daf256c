"""Committed JSON Schema snapshots of every topic, and the check that a change stays compatible.

``python -m contracts.schemas_tool write`` refreshes contracts/schemas/; ``check`` guards CI.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from contracts.registry import EVENTS

Schema = Mapping[str, Any]

SCHEMA_DIR = Path(__file__).parent / "schemas"
_MAX_DEPTH = 64


def current_schemas() -> dict[str, dict[str, Any]]:
    """Topic → JSON Schema of its model, as the code defines it now."""
    return {event.TOPIC: event.model_json_schema() for event in EVENTS}


def dump(schema: Schema) -> str:
    """The snapshot file's text: sorted keys, indent 2, trailing newline."""
    return json.dumps(schema, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def read_snapshots(directory: Path) -> dict[str, dict[str, Any]]:
    """Topic → committed schema, from ``<directory>/<topic>.json``."""
    return {
        path.name.removesuffix(".json"): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*.json"))
    }


def resolve(node: Schema, root: Schema) -> Schema:
    """Follow ``$ref`` (``#/$defs/Name``) and single-entry ``allOf`` to the schema they name."""
    for _ in range(_MAX_DEPTH):
        if "$ref" in node:
            ref = str(node["$ref"])
            target: Any = root
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
            node = target
        elif "allOf" in node and len(node["allOf"]) == 1:
            node = node["allOf"][0]
        else:
            return node
    raise ValueError("schema $ref chain too deep")


def variants(node: Schema, root: Schema) -> list[Schema]:
    """The alternatives a value may take: ``anyOf``/``oneOf`` flattened, refs resolved."""
    node = resolve(node, root)
    for key in ("anyOf", "oneOf"):
        if key in node:
            return [leaf for option in node[key] for leaf in variants(option, root)]
    return [node]


def kind(node: Schema) -> str:
    """A short name for a resolved schema's JSON shape, e.g. ``string(date-time)`` or ``enum``."""
    if "enum" in node or "const" in node:
        return "enum"
    json_type = node.get("type", "any")
    if json_type == "object" and "properties" not in node:
        return "map"
    if "format" in node:
        return f"{json_type}({node['format']})"
    return str(json_type)


def enum_values(node: Schema) -> list[Any]:
    return list(node["enum"]) if "enum" in node else [node["const"]]


def compare(old: Schema, new: Schema) -> list[str]:
    """Every way ``new`` breaks consumers written against ``old``; empty means compatible."""
    return _compare(old, old, new, new, "", 0)


def _compare(
    old: Schema, old_root: Schema, new: Schema, new_root: Schema, path: str, depth: int
) -> list[str]:
    if depth > _MAX_DEPTH:
        return []
    where = path or "(root)"
    old_by_kind = {kind(v): v for v in variants(old, old_root)}
    new_by_kind = {kind(v): v for v in variants(new, new_root)}
    problems: list[str] = []
    if set(old_by_kind) != set(new_by_kind):
        problems.append(
            f"{where}: type changed from {' | '.join(sorted(old_by_kind))} "
            f"to {' | '.join(sorted(new_by_kind))}"
        )
    for shared in sorted(old_by_kind.keys() & new_by_kind.keys()):
        old_v, new_v = old_by_kind[shared], new_by_kind[shared]
        if shared == "enum":
            problems += _compare_enum(old_v, new_v, where)
        elif shared == "object":
            problems += _compare_object(old_v, old_root, new_v, new_root, path, depth)
        elif shared == "array" and "items" in old_v and "items" in new_v:
            problems += _compare(old_v["items"], old_root, new_v["items"], new_root, f"{path}[]", depth + 1)
        elif shared == "map":
            old_values, new_values = (
                old_v.get("additionalProperties"),
                new_v.get("additionalProperties"),
            )
            if isinstance(old_values, Mapping) and isinstance(new_values, Mapping):
                problems += _compare(old_values, old_root, new_values, new_root, f"{path}{{}}", depth + 1)
    return problems


def _compare_enum(old: Schema, new: Schema, where: str) -> list[str]:
    new_values = enum_values(new)
    removed = [value for value in enum_values(old) if value not in new_values]
    if not removed:
        return []
    return [f"{where}: enum narrowed, removed value(s) {', '.join(map(repr, removed))}"]


def _compare_object(
    old: Schema, old_root: Schema, new: Schema, new_root: Schema, path: str, depth: int
) -> list[str]:
    prefix = f"{path}." if path else ""
    old_props: Mapping[str, Any] = old.get("properties", {})
    new_props: Mapping[str, Any] = new.get("properties", {})
    old_required = set(old.get("required", ()))
    problems: list[str] = []
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"{prefix}{name}: property removed")
            continue
        problems += _compare(old_prop, old_root, new_props[name], new_root, prefix + name, depth + 1)
    for name in sorted(set(new.get("required", ())) - old_required):
        if name in old_props:
            problems.append(f"{prefix}{name}: property is now required")
        else:
            problems.append(f"{prefix}{name}: new property is required (add it as optional)")
    return problems


def compare_topics(snapshots: Mapping[str, Schema], current: Mapping[str, Schema]) -> list[str]:
    """Breaking changes across all topics; a new topic (new major version) is never one."""
    problems: list[str] = []
    for topic in sorted(snapshots):
        if topic not in current:
            problems.append(f"{topic}: snapshot exists but no model publishes this topic any more")
            continue
        problems += [f"{topic}: {problem}" for problem in compare(snapshots[topic], current[topic])]
    return problems


def out_of_date(snapshots: Mapping[str, Schema], current: Mapping[str, Schema]) -> list[str]:
    """Topics whose snapshot is missing or differs from the model (compatible or not)."""
    return sorted(
        topic for topic, schema in current.items() if dump(snapshots.get(topic, {})) != dump(schema)
    )


def write(directory: Path, *, allow_breaking: bool = False) -> int:
    """Write every topic's snapshot; refuses a breaking change unless ``allow_breaking``."""
    snapshots, current = read_snapshots(directory), current_schemas()
    problems = compare_topics(snapshots, current)
    if problems and not allow_breaking:
        _report_breaking(problems)
        print(
            "Not written. A breaking change needs a new major version (a new topic).",
            file=sys.stderr,
        )
        return 1
    directory.mkdir(parents=True, exist_ok=True)
    for topic in sorted(set(snapshots) - set(current)):
        (directory / f"{topic}.json").unlink()
    for topic in out_of_date(snapshots, current):
        (directory / f"{topic}.json").write_text(dump(current[topic]), encoding="utf-8")
        print(f"wrote {directory / f'{topic}.json'}")
    return 0


def check(directory: Path, *, compat_only: bool = False) -> int:
    """Exit status for CI: 1 on a breaking change, or (unless ``compat_only``) a stale snapshot."""
    snapshots, current = read_snapshots(directory), current_schemas()
    problems = compare_topics(snapshots, current)
    if problems:
        _report_breaking(problems)
        return 1
    stale = [] if compat_only else out_of_date(snapshots, current)
    if stale:
        print("Snapshots out of date (compatible changes, not yet written):", file=sys.stderr)
        for topic in stale:
            print(f"  {topic}", file=sys.stderr)
        print("Run: python -m contracts.schemas_tool write", file=sys.stderr)
        return 1
    print(f"{len(current)} topic schemas compatible with {directory}")
    return 0


def _report_breaking(problems: Sequence[str]) -> None:
    print("Breaking contract changes:", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contracts.schemas_tool", description=__doc__)
    parser.add_argument("command", choices=("write", "check"))
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="snapshot directory")
    parser.add_argument(
        "--allow-breaking", action="store_true", help="write: overwrite despite breaking changes"
    )
    parser.add_argument(
        "--compat-only", action="store_true", help="check: ignore compatible, unwritten changes"
    )
    args = parser.parse_args(argv)
    if args.command == "write":
        return write(args.dir, allow_breaking=args.allow_breaking)
    return check(args.dir, compat_only=args.compat_only)


if __name__ == "__main__":
    sys.exit(main())
