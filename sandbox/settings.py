"""Settings for the sandbox process, read from the environment.
HTTP_PORT picks the port; COURIER_TOKEN, when set, is the only Delhivery token accepted."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class SandboxSettings(BaseSettings):
    """Environment-driven settings; every field has a default so `make run` needs none."""

    model_config = SettingsConfigDict(extra="ignore")

    http_port: int = 8010
    # None accepts any non-empty token, which is what the demo and the tests rely on.
    courier_token: str | None = None
    # Where the simulated couriers send their webhooks, and the secrets they sign them with: the
    # same defaults as the shipping service's settings.
    shipping_url: str = "http://localhost:8004"
    delhivery_webhook_token: str = "dev-delhivery-webhook-token-local"
    shiprocket_webhook_token: str = "dev-shiprocket-webhook-token-local"
    xpressbees_webhook_secret: str = "dev-xpressbees-webhook-secret-local"
