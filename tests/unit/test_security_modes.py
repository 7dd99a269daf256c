"""Development secrets and the sandbox only in development mode: any other run refuses to start.

Every secret a service reads has a public development default (`dev-<name>-local`); a deployment
that forgot one would accept forged webhooks signed with it, so the process must not start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chassis.settings import EXIT_UNSAFE_SETTINGS, ServiceSettings
from chassis.signatures import hmac_sha256_hex
from services.notifications.settings import NotificationsSettings
from services.orders.domain import razorpay
from services.orders.settings import OrdersSettings
from services.returns.settings import ReturnsSettings
from services.shipping.settings import ShippingSettings

ROOT = Path(__file__).resolve().parents[2]
# One service with webhook secrets, one without any: the check is the chassis's, shared by all.
SERVICES = ("orders", "routing")
REAL_KEYS = "priya:admin:9f2c1e7a5b3d4c6e8f0a1b2c"


def start_without_development_mode(service: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m services.<service>` with none of the local stack's environment."""
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV")}
    return subprocess.run(
        [sys.executable, "-m", f"services.{service}"],
        cwd=ROOT,
        env={**clean, "HTTP_PORT": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,  # a loaded CI machine imports a service slowly
    )


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_without_a_mode_refuses_to_start_naming_what_is_missing(service: str) -> None:
    run = start_without_development_mode(service)
    assert run.returncode == EXIT_UNSAFE_SETTINGS, run.stderr
    assert "refusing to start in production mode" in run.stderr
    assert "API_KEYS is not set" in run.stderr


def test_orders_in_production_refuses_the_development_razorpay_secret_and_keys() -> None:
    run = start_without_development_mode(
        "orders",
        DABBA_MODE="production",
        API_KEYS="ops:ops:dev-ops-key-local",
        RAZORPAY_WEBHOOK_SECRET="dev-razorpay-webhook-secret-local",
    )
    assert run.returncode == EXIT_UNSAFE_SETTINGS
    assert "RAZORPAY_WEBHOOK_SECRET has its development value" in run.stderr
    assert "API_KEYS entry 'ops' uses a development key" in run.stderr


def test_a_forged_capture_signed_with_a_former_default_is_refused_in_production() -> None:
    settings = OrdersSettings(
        razorpay_webhook_secret="rzp-whsec-6b1f0c9e2d", database_password="pg-7f3a9c", api_keys=REAL_KEYS
    )
    assert settings.unsafe_for_production() == []
    body = b'{"event":"payment.captured","payload":{"payment":{"entity":{"notes":{"order_id":"ORD-1"}}}}}'
    secret = settings.razorpay_webhook_secret
    for former in ("dabba-sandbox-webhook-secret", "dev-razorpay-webhook-secret-local"):
        assert not razorpay.signature_ok(secret, body, hmac_sha256_hex(former, body))
    assert razorpay.signature_ok(secret, body, hmac_sha256_hex("rzp-whsec-6b1f0c9e2d", body))


@pytest.mark.parametrize(
    ("settings_class", "names"),
    [
        (OrdersSettings, {"RAZORPAY_WEBHOOK_SECRET", "DATABASE_PASSWORD"}),
        (
            ReturnsSettings,
            {
                "DATABASE_PASSWORD",
                "RAZORPAY_WEBHOOK_SECRET",
                "RAZORPAY_KEY_SECRET",
                "RAZORPAY_KEY_ID",
                "RETURN_LINK_SECRET",
                "REFUND_BANK_KEY",
                "RAZORPAY_BASE_URL",
                "RAZORPAYX_ACCOUNT_NUMBER",
            },
        ),
        (
            NotificationsSettings,
            {
                "DATABASE_PASSWORD",
                "WHATSAPP_APP_SECRET",
                "WHATSAPP_VERIFY_TOKEN",
                "WHATSAPP_TOKEN",
                "MSG91_AUTHKEY",
                "MSG91_WEBHOOK_TOKEN",
                "WHATSAPP_BASE_URL",
                "MSG91_BASE_URL",
                "ALERT_WEBHOOK_URL",
                "WHATSAPP_PHONE_NUMBER_ID",
            },
        ),
        (
            ShippingSettings,
            {
                "DATABASE_PASSWORD",
                "DELHIVERY_WEBHOOK_TOKEN",
                "SHIPROCKET_WEBHOOK_TOKEN",
                "XPRESSBEES_WEBHOOK_SECRET",
                "DELHIVERY_TOKEN",
                "SHIPROCKET_PASSWORD",
                "XPRESSBEES_PASSWORD",
                "COURIER_BASE_URL",
                "SHIPROCKET_BASE_URL",
                "XPRESSBEES_BASE_URL",
                "SHIPROCKET_EMAIL",
                "XPRESSBEES_EMAIL",
            },
        ),
    ],
)
def test_every_secret_and_sandbox_fallback_is_named_outside_development(
    settings_class: type[ServiceSettings], names: set[str]
) -> None:
    problems = settings_class(api_keys=REAL_KEYS).unsafe_for_production()
    named = {problem.split(" ", 1)[0] for problem in problems}
    assert named == names


def test_a_provider_url_pointing_at_the_sandbox_is_refused_even_when_set() -> None:
    returns = ReturnsSettings(sandbox_url="http://sandbox:8010", razorpay_base_url="http://sandbox:8010/")
    assert any(p.startswith("RAZORPAY_BASE_URL") for p in returns.unsafe_for_production())


def test_shipping_needs_secrets_only_for_the_couriers_the_seller_uses() -> None:
    problems = ShippingSettings(couriers="delhivery", api_keys=REAL_KEYS).unsafe_for_production()
    named = {p.split(" ", 1)[0] for p in problems}
    assert named == {"COURIER_BASE_URL", "DELHIVERY_TOKEN", "DELHIVERY_WEBHOOK_TOKEN", "DATABASE_PASSWORD"}


def test_development_mode_keeps_the_development_value_of_an_empty_secret() -> None:
    settings = OrdersSettings(dabba_mode="development", razorpay_webhook_secret="")
    assert settings.razorpay_webhook_secret == "dev-razorpay-webhook-secret-local"
    settings.refuse_unsafe()
    production = OrdersSettings(
        dabba_mode="production", razorpay_webhook_secret="", database_password="pg-7f3a9c", api_keys=REAL_KEYS
    )
    assert production.unsafe_for_production() == ["RAZORPAY_WEBHOOK_SECRET is not set"]


def test_the_local_stack_runs_in_development_mode_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    from deploy.local.stack import Stack

    monkeypatch.delenv("DABBA_MODE", raising=False)
    env = Stack().environment("orders")
    assert env["DABBA_MODE"] == "development"
    OrdersSettings(dabba_mode=env["DABBA_MODE"]).refuse_unsafe()
