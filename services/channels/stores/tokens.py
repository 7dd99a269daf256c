"""Access tokens of the marketplaces, kept per account until shortly before they expire: Amazon's
Login with Amazon tokens last an hour, Flipkart's about sixty days. A token the marketplace refuses
(401/403) is dropped and fetched again once, so an expiry mid-run costs one call, not a failed job."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

REFRESH_BEFORE_S = 60.0
"""Fetch a new token this long before the old one expires, so no call carries one that expires in flight."""


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    expires_at: float


def still_good(token: Token | None, *, now: float, margin_s: float = REFRESH_BEFORE_S) -> bool:
    """A kept token may be used: it exists and does not expire within the margin."""
    return token is not None and token.expires_at - margin_s > now


class TokenCache:
    """Tokens by account; ``fetch`` asks the marketplace for one (value, lifetime in seconds)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._tokens: dict[str, Token] = {}
        self._clock = clock
        self.fetched = 0
        """How many tokens were fetched (a test of renewal counts them)."""

    async def get(self, account: str, fetch: Callable[[], Awaitable[tuple[str, float]]]) -> str:
        """The account's token, fetched first when there is none or it is about to expire."""
        kept = self._tokens.get(account)
        if kept is not None and still_good(kept, now=self._clock()):
            return kept.value
        value, lifetime_s = await fetch()
        self.fetched += 1
        self._tokens[account] = Token(value, self._clock() + lifetime_s)
        return value

    def drop(self, account: str) -> None:
        """Forget a token the marketplace refused."""
        self._tokens.pop(account, None)
