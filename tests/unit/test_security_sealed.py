"""Bank account numbers are encrypted at rest under keys from settings, and keys rotate
(issue 15, item 6)."""

from __future__ import annotations

import json

import pytest

from chassis.sealed import Sealer, Unsealable, is_sealed
from services.returns.api import RefundTo, masked_refund_to, stored_refund_to
from services.returns.refunds import bank_account, sealed_bank_account
from services.returns.settings import ReturnsSettings

NUMBER = "50100123456789"
BANK = RefundTo(kind="bank_account", name="Asha Verma", ifsc="HDFC0001234", account_number=NUMBER)


def test_a_bank_refund_is_stored_with_its_number_sealed_and_shown_by_its_last_four_digits() -> None:
    keys = Sealer("a-long-random-secret")
    stored = stored_refund_to(BANK, keys)
    assert stored is not None
    assert NUMBER not in json.dumps(stored)
    assert is_sealed(stored["account_number_sealed"])
    assert masked_refund_to(stored) == {
        "kind": "bank_account",
        "name": "Asha Verma",
        "ifsc": "HDFC0001234",
        "account_number": "XXXX6789",
    }
    assert bank_account(stored, keys) == {
        "name": "Asha Verma",
        "ifsc": "HDFC0001234",
        "account_number": NUMBER,
    }


def test_a_upi_refund_has_nothing_to_seal() -> None:
    upi = RefundTo(kind="upi", vpa="asha@okicici")
    assert stored_refund_to(upi, Sealer("k")) == {"kind": "upi", "vpa": "asha@okicici"}


def test_a_number_stored_in_clear_before_sealing_is_still_paid_and_sealed_on_start() -> None:
    keys = Sealer("k1")
    legacy = BANK.model_dump(exclude_none=True)
    assert bank_account(legacy, keys)["account_number"] == NUMBER
    sealed = sealed_bank_account(legacy, keys)
    assert NUMBER not in json.dumps(sealed)
    assert bank_account(sealed, keys)["account_number"] == NUMBER


def test_a_new_key_put_first_seals_and_the_old_one_still_opens_until_dropped() -> None:
    old = Sealer("old-secret").seal(NUMBER)
    rotated = Sealer("new-secret,old-secret")
    assert rotated.open(old) == NUMBER
    assert Sealer("new-secret").open(rotated.seal(NUMBER)) == NUMBER
    with pytest.raises(Unsealable):
        Sealer("new-secret").open(old)
    with pytest.raises(Unsealable):
        Sealer("old-secret").open(NUMBER)


def test_each_sealing_differs_so_equal_numbers_cannot_be_matched_in_the_table() -> None:
    keys = Sealer("k")
    assert keys.seal(NUMBER) != keys.seal(NUMBER)


def test_returns_in_production_refuses_the_development_bank_key() -> None:
    problems = ReturnsSettings(dabba_mode="production").unsafe_for_production()
    assert "REFUND_BANK_KEY has its development value" in problems
