"""The console acts only through the owning services' HTTP APIs, as the person who clicked (ADR 80).

Each call carries the console's key for the operator's role and the operator's name in
X-On-Behalf-Of: the owning service checks the role and records the name as the actor. The owner
names the events its answer wrote (X-Dabba-Events); the call returns once the console's read model
has applied them, so the operator's next page shows what they did (ADR 545).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from chassis.auth import HEADER, ON_BEHALF
from chassis.http import EVENTS_HEADER, written_events

Settle = Callable[[list[tuple[str, str]]], Awaitable[None]]
"""Waits until the read model has applied these (topic, event id) pairs."""


@dataclass(frozen=True)
class Operator:
    """The signed-in person: their name, role and this session's CSRF token."""

    name: str
    role: str
    csrf: str


@dataclass(frozen=True)
class Outcome:
    """What the owning service answered, with a sentence for the operator."""

    status: int
    body: Any
    message: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def explain(status: int, body: Any) -> str:
    """One sentence from any error body: {error, problems: [{field, problem}]} or FastAPI's {detail}."""
    if 200 <= status < 300:
        return "done"
    if isinstance(body, dict):
        problems = body.get("problems")
        if isinstance(problems, list) and problems:
            named = "; ".join(
                f"{p.get('field')}: {p.get('problem')}" if isinstance(p, dict) else str(p) for p in problems
            )
            return f"{body.get('error', 'refused')}: {named}"
        detail = body.get("detail")
        if isinstance(detail, str):
            return detail
        if detail is not None:
            return str(detail)
    return f"refused ({status})"


class Owners:
    """HTTP clients of the owning services, and the console's key per role."""

    def __init__(
        self, clients: dict[str, httpx.AsyncClient], keys: dict[str, str], settle: Settle | None = None
    ) -> None:
        self._clients = clients
        self._keys = keys
        self._settle = settle

    @property
    def services(self) -> list[str]:
        """The owning services the console talks to."""
        return sorted(self._clients)

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        operator: Operator,
        json: Any = None,
        csv: bytes | None = None,
    ) -> Outcome:
        """Call the owning service as the operator with a JSON body, or a CSV file's bytes as a
        text/csv body; a refusal comes back as an Outcome, not raised."""
        response = await self._send(service, method, path, operator=operator, json=json, csv=csv)
        if isinstance(response, Outcome):
            return response
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return Outcome(response.status_code, body, explain(response.status_code, body))

    async def document(
        self, service: str, path: str, *, operator: Operator, params: Any = None
    ) -> tuple[Outcome, bytes, str]:
        """GET a document the owner makes (a label or manifest PDF) as the operator: the outcome, and
        the bytes and content type when it answered 2xx (the console passes them on, never makes one)."""
        response = await self._send(service, "GET", path, operator=operator, params=params)
        if isinstance(response, Outcome):
            return response, b"", ""
        if response.is_success:
            media = response.headers.get("content-type", "application/octet-stream")
            return Outcome(response.status_code, None, "done"), response.content, media
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return Outcome(response.status_code, body, explain(response.status_code, body)), b"", ""

    async def _send(
        self,
        service: str,
        method: str,
        path: str,
        *,
        operator: Operator,
        json: Any = None,
        params: Any = None,
        csv: bytes | None = None,
    ) -> httpx.Response | Outcome:
        key = self._keys.get(operator.role)
        if key is None:
            return Outcome(403, None, f"the console has no key for role {operator.role} (CONSOLE_API_KEYS)")
        headers = {HEADER: key, ON_BEHALF: operator.name}
        if csv is not None:
            headers["Content-Type"] = "text/csv"
        try:
            response = await self._clients[service].request(
                method, path, json=json, params=params, content=csv, headers=headers
            )
        except httpx.HTTPError as exc:
            return Outcome(503, None, f"{service} did not answer: {exc.__class__.__name__}")
        written = written_events(response.headers.get(EVENTS_HEADER))
        if written and self._settle is not None:
            await self._settle(written)
        return response
