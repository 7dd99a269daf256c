"""Webhook signatures: Razorpay, Meta and couriers sign the raw body with HMAC-SHA256 (hex); Shopify
and WooCommerce send the same HMAC base64-encoded.

One implementation for every service that verifies one, compared in constant time over bytes (a
header with non-ASCII characters is a mismatch, never an error)."""

from __future__ import annotations

import base64
import hashlib
import hmac


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of exactly these bytes under the secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_by(secret: str, body: bytes, presented: str | None, *, prefix: str = "") -> bool:
    """Whether `presented` is `prefix` + the hex HMAC-SHA256 of this body under the secret."""
    if not presented:
        return False
    expected = prefix + hmac_sha256_hex(secret, body)
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8", "surrogateescape"))


def same_secret(expected: str, presented: str | None) -> bool:
    """Whether a presented token (a verify token, a static webhook token) is ours: constant time,
    over UTF-8 bytes, so any text presented is a mismatch, never an error."""
    if not presented or not expected:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8", "surrogateescape"))


def hmac_sha256_base64(secret: str, body: bytes) -> str:
    """The base64 HMAC-SHA256 of exactly these bytes under the secret (Shopify, WooCommerce)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signed_by_base64(secret: str, body: bytes, presented: str | None) -> bool:
    """Whether `presented` is the base64 HMAC-SHA256 of this body under the secret."""
    if not presented:
        return False
    expected = hmac_sha256_base64(secret, body)
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8", "surrogateescape"))
