"""Identifiers people read: a prefix, then a time-ordered, collision-safe part."""

from __future__ import annotations

import uuid_utils


def time_ordered_id(prefix: str) -> str:
    """E.g. ORD-01A2160C9718-5E3B7A21: the UUIDv7's millisecond time, then 32 of its random bits,
    so ids sort by creation time and two made in the same millisecond still differ."""
    hex_ = uuid_utils.uuid7().hex.upper()
    return f"{prefix}-{hex_[:12]}-{hex_[-8:]}"
