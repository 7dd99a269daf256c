"""The one exception a provider route raises to answer in that provider's own error shape.
The app turns it into a JSON response with the given status, body and headers."""

from typing import Any


class ProviderError(Exception):
    """A provider-shaped error response (body already in the provider's format)."""

    def __init__(self, status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status_code}: {body}")
        self.status_code = status_code
        self.body = body
        self.headers = headers or {}
