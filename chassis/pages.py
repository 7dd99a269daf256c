"""Keyset pagination for every list route: a cursor names the last row seen, the limit is capped.

A page is read with `WHERE (at, id) < ($at, $id) ORDER BY at DESC, id DESC LIMIT $limit` (or the
ascending mirror), so a page costs the same however deep it is and rows added meanwhile never shift it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from chassis.refusal import Refusal

MAX_LIMIT = 500

Cursor = Annotated[
    str | None,
    Query(max_length=200, description="next_cursor of the previous page; leave out for the first page"),
]
"""The `cursor` query parameter of every list route."""

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Rows per page, at most {MAX_LIMIT}")]
"""The `limit` query parameter of every list route (give it a default: `limit: Limit = 50`)."""

T = TypeVar("T")
R = TypeVar("R")


class Page(BaseModel, Generic[T]):
    """A page of a list; pass next_cursor back as `cursor` for the next one (null: the last page)."""

    items: list[T]
    next_cursor: str | None = Field(description="null on the last page")


def cursor_of(at: datetime, key: str) -> str:
    """The cursor after a row: its timestamp and its id."""
    return f"{at.isoformat()}|{key}"


def position(cursor: str | None) -> tuple[datetime, str] | None:
    """Where a cursor points (timestamp, id), None for the first page; Refusal(422) if it is not ours."""
    if cursor is None:
        return None
    at, _, key = cursor.partition("|")
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or not key or "\x00" in key:
        raise Refusal("cursor", "not a cursor from a previous page")
    return parsed, key


def next_cursor(rows: Sequence[R], limit: int, key: Callable[[R], tuple[datetime, str]]) -> str | None:
    """The cursor of the page after these rows, None when they were the last ones (fewer than limit)."""
    if len(rows) < limit or not rows:
        return None
    return cursor_of(*key(rows[-1]))


def after_key(cursor: str | None) -> str | None:
    """Where a cursor over a list ordered by one unique text key points (the last key seen), None for
    the first page; Refusal(422) if it is not ours. Such a list reads `WHERE key > $after ORDER BY key`."""
    if cursor is None:
        return None
    kind, _, key = cursor.partition("|")
    if kind != "k" or not key:
        raise Refusal("cursor", "not a cursor from a previous page")
    return key


def after_number(cursor: str | None) -> int | None:
    """Where a cursor over a list ordered by a numeric id points, None for the first page."""
    key = after_key(cursor)
    if key is None:
        return None
    if not key.isdigit() or len(key) > 19:
        raise Refusal("cursor", "not a cursor from a previous page")
    return int(key)


def next_key(rows: Sequence[R], limit: int, key: Callable[[R], str | int]) -> str | None:
    """The cursor of the page after these rows of a list ordered by one key (after_key, after_number),
    None when they were the last ones."""
    if len(rows) < limit or not rows:
        return None
    return f"k|{key(rows[-1])}"
