"""Settings of the shipping service (environment variables): couriers, allocation, NDR, tracking."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, model_validator

from chassis.settings import ServiceSettings, account, provider_url, secret
from services.shipping.domain.allocation import Policy

DATA = Path(__file__).parent / "data"


class ShippingSettings(ServiceSettings):
    """Shipping: port 8004, the seller's courier accounts, how to choose among them, NDR and polling."""

    http_port: int = 8004
    couriers: str = Field(
        default="delhivery,shiprocket,xpressbees",
        description="The seller's courier accounts, comma-separated; only these are allocated.",
    )
    allocation_policy: Policy = Policy.CHEAPEST
    courier_priority: str = Field(default="", description="For the priority policy: couriers in order.")
    promised_days: dict[str, int] = Field(
        default={"standard": 5, "express": 2, "same_day": 1},
        description="Delivery days promised per delivery speed; the cheapest policy keeps within them.",
    )
    max_cod_paise: dict[str, int] = Field(
        default={"delhivery": 5_000_000, "shiprocket": 5_000_000, "xpressbees": 2_500_000},
        description="COD limit per courier; a parcel over it goes to another courier.",
    )
    courier_timeout_s: float = 10.0

    courier_base_url: str = provider_url("Delhivery's API base URL; empty means the sandbox (SANDBOX_URL).")
    delhivery_token: str = secret("dev-delhivery-token-local", "Delhivery API token.")
    delhivery_webhook_token: str = secret(
        "dev-delhivery-webhook-token-local", "The token Delhivery's scan push carries (Authorization)."
    )
    shiprocket_base_url: str = provider_url("Shiprocket's API base URL; empty means the sandbox.")
    shiprocket_email: str = account("api@dabba.example", "Shiprocket API user.")
    shiprocket_password: str = secret("dev-shiprocket-password-local", "Shiprocket API user's password.")
    shiprocket_webhook_token: str = secret(
        "dev-shiprocket-webhook-token-local", "The token Shiprocket's status push carries (x-api-key)."
    )
    xpressbees_base_url: str = provider_url("Xpressbees' API base URL; empty means the sandbox.")
    xpressbees_email: str = account("api@dabba.example", "Xpressbees API user.")
    xpressbees_password: str = secret("dev-xpressbees-password-local", "Xpressbees API user's password.")
    xpressbees_webhook_secret: str = secret(
        "dev-xpressbees-webhook-secret-local", "Signs Xpressbees' status push (HMAC-SHA256)."
    )

    unit_weight_grams: int = Field(
        default=500, ge=1, description="Weight per unit of a SKU with no dimensions on record."
    )
    unit_dimensions_cm: tuple[float, float, float] = Field(
        default=(20.0, 15.0, 5.0), description="L, B, H per unit of a SKU with no dimensions on record."
    )
    reference_ttl_s: float = Field(
        default=10.0,
        ge=0,
        description="How long bookings reuse serviceability, rate cards, pickup addresses and SKU sizes "
        "before reading them again. A change made through this process shows at once (when it commits); "
        "one made through another replica shows within this; 0 reads them for every booking.",
    )
    data_dir: Path = Field(
        default=DATA, description="CSV files loaded at start for couriers with no rows yet."
    )

    ndr_max_attempts: int = Field(default=3, ge=1, description="Failed attempts before the parcel goes RTO.")
    ndr_sweep_s: float = Field(default=5.0, description="How often unsent NDR instructions are retried.")
    rebook_s: float = Field(default=60.0, description="How often shipments no courier took are tried again.")
    tracking_poll_s: float = Field(default=60.0, description="How often quiet shipments are polled.")
    late_to_dispatch_s: float = Field(
        default=300.0, gt=0, description="How often parcels past their dispatch-by are counted and alerted."
    )
    pickup_report_s: float = Field(
        default=300.0,
        gt=0,
        description="How often tomorrow's booked pickups are compared with the couriers' capacity and "
        "alerted (nearly full, full, over).",
    )
    tracking_quiet_s: float = Field(
        default=6 * 3600.0, description="A shipment with no courier news for this long is polled."
    )

    @model_validator(mode="after")
    def _default_to_sandbox(self) -> Self:
        for name in ("courier_base_url", "shiprocket_base_url", "xpressbees_base_url"):
            if not getattr(self, name):
                setattr(self, name, self.sandbox_url)
        return self

    def unsafe_for_production(self) -> list[str]:
        """As every service's, but only for the couriers this seller has accounts with."""
        settings_of = {
            "delhivery": ("COURIER_BASE_URL", "DELHIVERY_"),
            "shiprocket": ("SHIPROCKET_",),
            "xpressbees": ("XPRESSBEES_",),
        }
        unused = tuple(
            p for c, prefixes in settings_of.items() if c not in self.courier_names for p in prefixes
        )
        return [problem for problem in super().unsafe_for_production() if not problem.startswith(unused)]

    @property
    def courier_names(self) -> tuple[str, ...]:
        return tuple(c.strip() for c in self.couriers.split(",") if c.strip())

    @property
    def priority_list(self) -> tuple[str, ...]:
        return tuple(c.strip() for c in self.courier_priority.split(",") if c.strip())
