"""Settings of the console (environment variables)."""

from __future__ import annotations

from pydantic import Field

from chassis.settings import ServiceSettings


class ConsoleSettings(ServiceSettings):
    """Console: port 8000, where the owning services are, its key per role, sessions and sign-in."""

    http_port: int = 8000
    orders_url: str = "http://localhost:8001"
    routing_url: str = "http://localhost:8002"
    inventory_url: str = "http://localhost:8003"
    shipping_url: str = "http://localhost:8004"
    returns_url: str = "http://localhost:8006"
    notifications_url: str = "http://localhost:8005"
    console_api_keys: str = Field(
        default="",
        repr=False,
        description="The console's key per role, `role:key` comma-separated; each service knows these "
        "keys under the name `console` (ADR 80). A role without a key cannot act.",
    )
    console_operators: str = Field(
        default="",
        repr=False,
        description="Operators created at start when missing: `name:role:password` comma-separated "
        "(the local demo's users; in production add operators with the CLI instead).",
    )
    cookie_secure: bool = Field(
        default=True, description="Send the session cookie over HTTPS only; false for http://localhost."
    )
    session_hours: float = Field(default=12, gt=0, description="A session ends this long after sign-in.")
    lockout_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins in a row that lock an account."
    )
    lockout_minutes: float = Field(default=15, gt=0, description="How long a locked account stays locked.")
    owner_timeout_s: float = 10.0
    follower_fetch_max_wait_ms: int = Field(
        default=100,
        ge=1,
        description="The console's read model follows the orders (ADR 545): the broker gathers its "
        "records for this long, and an operator's action waits up to this long to show on the next page.",
    )
    read_model_wait_s: float = Field(
        default=5.0,
        ge=0,
        description="How long an operator's action waits for the events it wrote to reach the read "
        "model before the next page is shown anyway (ADR 545).",
    )
    page_size: int = Field(default=50, ge=1, le=500)
    refund_sla_days: float = Field(
        default=3,
        ge=0,
        description="Returns' REFUND_SLA_DAYS (keep the two equal): the returns desk shows each "
        "refund due this long after QC; returns' own SLA alert marks a refund overdue whatever this says.",
    )

    def role_keys(self) -> dict[str, str]:
        """role → the console's key for it."""
        keys: dict[str, str] = {}
        for entry in filter(None, (e.strip() for e in self.console_api_keys.split(","))):
            role, _, key = entry.partition(":")
            if not key:
                raise ValueError("CONSOLE_API_KEYS entries are role:key")
            keys[role] = key
        return keys

    def operators(self) -> list[tuple[str, str, str]]:
        """(name, role, password) of each operator to create at start."""
        found = []
        for entry in filter(None, (e.strip() for e in self.console_operators.split(","))):
            parts = entry.split(":", 2)
            if len(parts) != 3 or not all(parts):
                raise ValueError("CONSOLE_OPERATORS entries are name:role:password")
            found.append((parts[0], parts[1], parts[2]))
        return found
