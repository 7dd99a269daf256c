"""Return links: signed for one order and one purpose, they expire, and an operator can revoke one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.returns.api import link_order, link_token, signed_link

SECRET = "rl-9c2e7f1a4b"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ORDER = "ORD-019AC2E1F3A0-5E3B7A21"


def test_a_link_works_until_it_expires_and_not_after() -> None:
    token = link_token(SECRET, ORDER, expires=NOW + timedelta(days=30))
    assert link_order(SECRET, token, now=NOW) == ORDER
    assert link_order(SECRET, token, now=NOW + timedelta(days=29, hours=23)) == ORDER
    assert link_order(SECRET, token, now=NOW + timedelta(days=30)) is None


def test_a_changed_expiry_order_or_signature_is_refused() -> None:
    token = link_token(SECRET, ORDER, expires=NOW + timedelta(days=1))
    order_id, stamp, signature = token.rsplit(".", 2)
    longer = f"{order_id}.{int(stamp) + 10**8}.{signature}"
    other = f"ORD-OTHER.{stamp}.{signature}"
    assert link_order(SECRET, longer, now=NOW) is None
    assert link_order(SECRET, other, now=NOW) is None
    assert link_order("another-secret", token, now=NOW) is None


def test_malformed_tokens_are_refused_not_errors() -> None:
    for token in ("", ".", "..", f"{ORDER}.abc.def", f"{ORDER}.{10**12}.शशश", f"{ORDER}.0123abcd"):
        assert link_order(SECRET, token, now=NOW) is None


def test_a_signed_link_is_known_by_its_signature_expired_or_not() -> None:
    token = link_token(SECRET, ORDER, expires=NOW + timedelta(days=1))
    link = signed_link(SECRET, token)
    assert link is not None
    assert (link.order_id, link.expires_at, link.signature) == (
        ORDER,
        NOW + timedelta(days=1),
        token.rpartition(".")[2],
    )
    assert signed_link("another-secret", token) is None
    assert link_order(SECRET, token, now=NOW + timedelta(days=2)) is None
