"""API keys with roles for every service's HTTP API: who may call what, and who did it.

Keys come from the API_KEYS setting as `name:role:key` entries separated by commas; only their
SHA-256 digests are kept in memory. A route declares the roles it allows with `require(...)`
(admin is always allowed); provider webhooks declare `by_signature(provider, verify)` instead,
because a courier or a gateway cannot send our key: the declaration carries the check of the
provider's own signature, so a webhook route cannot be declared without one and its handler runs only
after it passed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from chassis.refusal import Refusal

HEADER = "X-API-Key"
ON_BEHALF = "X-On-Behalf-Of"
DELEGATE = "console"
"""Keys named `console` may say, in X-On-Behalf-Of, which signed-in person clicked (ADR 80)."""
_PERSON = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class Role(StrEnum):
    """What a key may do: admin everything; ops run orders; warehouse stock and packing;
    viewer read only; channel submit orders (adapters and integrations)."""

    ADMIN = "admin"
    OPS = "ops"
    WAREHOUSE = "warehouse"
    VIEWER = "viewer"
    CHANNEL = "channel"


# Reading is open to every staff role; integrations (channel) only see what they are allowed to.
STAFF = (Role.OPS, Role.WAREHOUSE, Role.VIEWER)


@dataclass(frozen=True)
class Principal:
    """The caller behind a key: recorded as the actor of every operator action."""

    name: str
    role: Role

    @property
    def actor(self) -> str:
        """Who did it, as every service records it: `role:name`, e.g. `ops:asha`."""
        return f"{self.role.value}:{self.name}"


class Unauthorized(Refusal):
    """No key, or a key this service does not know (401); or a role not allowed here (403)."""

    def __init__(self, problem: str, *, status: int = 401) -> None:
        super().__init__(HEADER, problem, status=status)


def parse_keys(spec: str) -> dict[str, Principal]:
    """`name:role:key,…` → digest of key → principal. Raises ValueError naming the bad entry."""
    keys: dict[str, Principal] = {}
    for position, entry in enumerate((e.strip() for e in spec.split(",")), start=1):
        if not entry:
            continue
        parts = entry.split(":", 2)
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"API_KEYS entry {position}: expected name:role:key")
        name, role, key = parts
        try:
            principal = Principal(name=name, role=Role(role))
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise ValueError(
                f"API_KEYS entry {position} ({name}): role {role!r} is not one of {allowed}"
            ) from None
        if len(key) < 12:
            raise ValueError(f"API_KEYS entry {position} ({name}): a key needs at least 12 characters")
        keys[_digest(key)] = principal
    return keys


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def authenticate(keys: dict[str, Principal], presented: str | None) -> Principal:
    """The principal of a presented key, or Unauthorized saying what is wrong."""
    if not keys:
        raise Unauthorized("this service has no API keys configured (set API_KEYS)")
    if not presented:
        raise Unauthorized(f"missing API key: send it in the {HEADER} header")
    digest = _digest(presented)
    for known, principal in keys.items():
        if hmac.compare_digest(known, digest):
            return principal
    raise Unauthorized("unknown API key")


def acting_for(principal: Principal, person: str | None) -> Principal:
    """The person the console acts for, with the role of the console's key; the caller otherwise.

    Only a delegate key (named `console`) may name a person, so the person's name becomes the actor
    in the owning service's timeline while the key's role still decides what is allowed."""
    if person is None:
        return principal
    if principal.name != DELEGATE:
        raise Unauthorized(f"only the console's keys may send {ON_BEHALF}", status=403)
    if not _PERSON.match(person):
        raise Unauthorized(f"{ON_BEHALF} must be a user name (a-z, 0-9, . _ -, up to 64)", status=403)
    return Principal(name=person, role=principal.role)


def authorize(principal: Principal, allowed: tuple[Role, ...]) -> None:
    """Raises Unauthorized (403) unless the principal's role is allowed (admin always is)."""
    if principal.role is Role.ADMIN or principal.role in allowed:
        return
    needs = ", ".join(r.value for r in (Role.ADMIN, *allowed))
    raise Unauthorized(f"role {principal.role.value} may not do this; it needs one of: {needs}", status=403)


_scheme = APIKeyHeader(name=HEADER, auto_error=False, description="A key from API_KEYS")


def require(*roles: Role) -> Any:
    """A route dependency: the caller's key must carry one of these roles (or admin)."""

    async def principal(request: Request, presented: str | None = Depends(_scheme)) -> Principal:
        found = acting_for(
            authenticate(request.app.state.api_keys, presented), request.headers.get(ON_BEHALF)
        )
        authorize(found, roles)
        request.state.principal = found
        return found

    principal.__dabba_auth__ = ("roles", roles)  # type: ignore[attr-defined]
    return Depends(principal)


Verifier = Callable[[Request], Awaitable[Any]]
"""Checks that a request is the provider's own (a signature over the raw body, a token in the path)
and refuses it with a 401 (chassis.refusal.Refusal) otherwise. What it returns (the verified body,
the scans it read) is what a route taking the declaration as a parameter receives."""


def by_signature(provider: str, verify: Verifier) -> Any:
    """A route dependency for a provider webhook: `verify` runs before the handler, on every request.

    Put it in `dependencies=[...]`, or as a parameter's default to receive what `verify` returns.
    `verify` may read the body (bounded by chassis.http's body limit; the handler reads the same
    cached bytes) but should refuse before parsing it."""
    if not callable(verify):
        raise TypeError(f"by_signature({provider!r}) needs the verifier of its provider's signature")

    async def signed(request: Request) -> Any:
        return await verify(request)

    signed.__dabba_auth__ = ("signature", provider)  # type: ignore[attr-defined]
    signed.__dabba_verifier__ = verify  # type: ignore[attr-defined]
    return Depends(signed)


def route_verifier(dependant: Any) -> Verifier | None:
    """The verifier a webhook route declared with `by_signature`, or None."""
    for dep in dependant.dependencies:
        verify = getattr(dep.call, "__dabba_verifier__", None)
        if verify is not None:
            return verify  # type: ignore[no-any-return]
        found = route_verifier(dep)
        if found is not None:
            return found
    return None


def route_auth(dependant: Any) -> tuple[str, Any] | None:
    """How a route is authenticated (walking its dependencies), or None when it is open."""
    for dep in dependant.dependencies:
        marker = getattr(dep.call, "__dabba_auth__", None)
        if marker is not None:
            return marker  # type: ignore[no-any-return]
        found = route_auth(dep)
        if found is not None:
            return found
    return None
