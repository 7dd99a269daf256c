"""One refusal for every service: what was refused, each problem naming the field to look at.

Domain code, handlers and routes raise it alike; every HTTP app answers it with the one error body
`{"error", "problems": [{"field", "problem"}]}` (chassis.http), and a handler may catch it to note it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

ERRORS_BY_STATUS = {
    400: "bad request",
    401: "unauthorized",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    409: "not allowed now",
    413: "too large",
    415: "unsupported media type",
    422: "invalid request",
    429: "too many requests",
    502: "bad gateway",
    503: "unavailable",
}


def error_of(status: int) -> str:
    """The `error` of an answer with this status when the refusal does not name its own."""
    return ERRORS_BY_STATUS.get(status, "refused")


class Named(Protocol):
    """Anything naming a field and its problem (contracts.values.FieldProblem is one)."""

    @property
    def field(self) -> str: ...

    @property
    def problem(self) -> str: ...


class Refusal(Exception):
    """A request or an action refused for named reasons.

    `status` is the HTTP answer: 422 for input that can never be right (the default), 404 for
    something that does not exist, 409 for something the current state does not allow now. `error`
    is the one-line summary; it defaults to the status's usual words (`error_of`)."""

    def __init__(self, field: str, problem: str, *, status: int = 422, error: str | None = None) -> None:
        super().__init__(f"{field}: {problem}")
        self.problems: list[tuple[str, str]] = [(field, problem)]
        self.status = status
        self.error = error or error_of(status)

    @classmethod
    def of(
        cls, problems: Iterable[tuple[str, str] | Named], *, status: int = 422, error: str | None = None
    ) -> Refusal:
        """One refusal naming several problems (every field problem of an input at once)."""
        pairs = [p if isinstance(p, tuple) else (p.field, p.problem) for p in problems]
        if not pairs:
            raise ValueError("a refusal names at least one problem")
        refusal = cls(*pairs[0], status=status, error=error)
        refusal.problems = pairs
        refusal.args = ("; ".join(f"{f}: {p}" for f, p in pairs),)
        return refusal

    @property
    def field(self) -> str:
        """The first problem's field."""
        return self.problems[0][0]

    @property
    def problem(self) -> str:
        """The first problem."""
        return self.problems[0][1]

    def body(self) -> dict[str, object]:
        """The error body every 4xx answer carries."""
        return {"error": self.error, "problems": [{"field": f, "problem": p} for f, p in self.problems]}
