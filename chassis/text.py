"""What text an HTTP request may carry: no NUL or other control characters, in bodies, paths and queries.

One rule for every route of every service, checked once per request (chassis.http) and written into
the OpenAPI as a pattern, so the schema says what the API accepts. PostgreSQL cannot store NUL, and
no name, code or note needs a control character; tab, line feed and carriage return stay allowed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

# Unicode's control characters (Cc) less tab, LF and CR, written once for the check and the schema.
_REFUSED = r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F"
PATTERN = rf"^[^{_REFUSED}]*$"
_CONTROL = re.compile(rf"[{_REFUSED}]|[\ud800-\udfff]")
# What a JSON body must contain for one of its strings to be refused: a refused character escaped
# (\u0000-\u001F, \u007F-\u009F, a lone surrogate \uD800-\uDFFF, \b, \f), or DEL or a C1 control raw
# (JSON allows those unescaped; a raw C0 control is malformed JSON), or a surrogate written raw
# (ED A0-BF: not UTF-8, but json.loads reads bytes with "surrogatepass"). A body without one is not walked.
_MAYBE_REFUSED = re.compile(
    rb"\\u(?:00[0189]|007[fF]|[dD][89a-fA-F])|\\[bf]|\x7f|\xc2[\x80-\x9f]|\xed[\xa0-\xbf]"
)


class MalformedJson(ValueError):
    """JSON text that does not parse; the message says at which character and why."""


def parsed(raw: bytes | str) -> Any:
    """JSON text read into Python values, or MalformedJson ("malformed JSON at character N: why"), the
    one way a service reads JSON text it was handed (a form field, a link's body, an event's bytes)."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise MalformedJson(f"malformed JSON at character {exc.pos}: {exc.msg}") from None
    except ValueError as exc:  # bytes that are not UTF-8
        raise MalformedJson(f"malformed JSON: {exc}") from None


def text_problem(value: str) -> str | None:
    """Why this text is refused, or None when it may be stored."""
    found = _CONTROL.search(value)
    if found is None:
        return None
    char = found.group()
    if "\ud800" <= char <= "\udfff":
        return "is not valid Unicode text (a lone surrogate)"
    return f"contains the control character U+{ord(char):04X}; text may not carry NUL or control characters"


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if (problem := text_problem(value)) is not None:
            yield path or "body", problem
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if (problem := text_problem(key)) is not None:
                yield f"{path or 'body'} (a key)", problem
                continue
            yield from _walk(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}.{index}" if path else str(index))


def json_problems(value: Any) -> list[tuple[str, str]]:
    """(field, problem) for every refused string in parsed JSON, the field as a dotted path."""
    return list(_walk(value, ""))


def parsed_json_problems(raw: bytes, parsed: Any) -> list[tuple[str, str]]:
    """json_problems of a body already parsed from ``raw``, without walking it when the raw bytes
    cannot hold a refused character (the common case, and the cost of a busy webhook)."""
    return json_problems(parsed) if _MAYBE_REFUSED.search(raw) else []


def body_problems(raw: bytes, content_type: str) -> list[tuple[str, str]]:
    """(field, problem) for every refused string in a request body (JSON by field, other text whole)."""
    if not raw:
        return []
    if "json" in content_type or not content_type:
        if not _MAYBE_REFUSED.search(raw):
            return []
        try:
            parsed = json.loads(raw)
        except ValueError:
            return []  # malformed JSON is answered by the route's own validation
        return json_problems(parsed)
    if content_type.startswith("text/"):
        problem = text_problem(raw.decode("utf-8", errors="replace"))
        return [("body", problem)] if problem else []
    return []


def document(openapi: dict[str, Any]) -> dict[str, Any]:
    """Write the rule into an OpenAPI document: every free string a request carries gets PATTERN.

    Free means no pattern, enum, const or format of its own (those already say what they accept).
    Components reached from request bodies are marked once, wherever else they are used."""
    components = openapi.get("components", {}).get("schemas", {})
    seen: set[str] = set()

    def mark(schema: Any) -> None:
        if not isinstance(schema, dict):
            return
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                mark(components.get(name))
            return
        if schema.get("type") == "string" and not {"pattern", "enum", "const", "format"} & schema.keys():
            schema["pattern"] = PATTERN
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            for sub in schema.get(key, ()):
                mark(sub)
        for key in ("items", "additionalProperties"):
            mark(schema.get(key))
        for sub in schema.get("properties", {}).values():
            mark(sub)

    for path_item in openapi.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", ()):
                if parameter.get("in") in ("path", "query"):
                    mark(parameter.get("schema"))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                mark(media.get("schema"))
    return openapi
