"""Values kept encrypted at rest (a COD refund's bank account number), under keys from settings.

Fernet from the `cryptography` library (AES-128-CBC with HMAC-SHA256, authenticated and timestamped),
each key derived with HKDF-SHA256 from one configured secret. The first secret seals, every secret
opens: a key is rotated by putting the new secret first and dropping the old one once nothing sealed
with it is still needed (docs/adr/0111).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PURPOSE = b"dabba sealed value v1"
SEALED_PREFIX = "sealed:v1:"
"""Marks a stored value as sealed, so a reader never mistakes a token for the value itself."""


class Unsealable(Exception):
    """A sealed value no configured key opens (a dropped key, or a changed value)."""


def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class Sealer:
    """Seals and opens short texts with the keys of one setting (comma-separated secrets)."""

    def __init__(self, secrets: str) -> None:
        keys = [s.strip() for s in secrets.split(",") if s.strip()]
        if not keys:
            raise ValueError("a sealer needs at least one secret")
        self._keys = MultiFernet([_fernet(k) for k in keys])

    def seal(self, plain: str) -> str:
        """The value encrypted with the first key, marked as sealed."""
        return SEALED_PREFIX + self._keys.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        """The value back; Unsealable when no key opens it or it is not a sealed value."""
        if not sealed.startswith(SEALED_PREFIX):
            raise Unsealable("not a sealed value")
        try:
            return self._keys.decrypt(sealed.removeprefix(SEALED_PREFIX).encode()).decode()
        except InvalidToken:
            raise Unsealable("no configured key opens this value") from None


def is_sealed(value: str) -> bool:
    """Whether a stored value is sealed (rows written before sealing was introduced are not)."""
    return value.startswith(SEALED_PREFIX)


@lru_cache(maxsize=8)
def sealer(secrets: str) -> Sealer:
    """The sealer of a setting's value, built once per process (deriving keys is not free)."""
    return Sealer(secrets)
