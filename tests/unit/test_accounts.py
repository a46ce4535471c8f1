"""Passwords at rest: what a stolen database would give away."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters
from argon2.exceptions import VerifyMismatchError

from tests.conftest import PRODUCTION_PASSWORDS


def test_production_hashes_passwords_with_argon2id_at_rfc_9106_cost() -> None:
    stored = PRODUCTION_PASSWORDS.hasher.hash("correct horse battery")
    parameters = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (3, 65536, 4)
    assert "correct horse battery" not in stored


def test_the_decoy_for_unknown_accounts_costs_as_much_and_matches_nothing() -> None:
    decoy = PRODUCTION_PASSWORDS.decoy
    assert extract_parameters(decoy) == extract_parameters(PRODUCTION_PASSWORDS.hasher.hash("x"))
    with pytest.raises(VerifyMismatchError):
        PRODUCTION_PASSWORDS.hasher.verify(decoy, "")
