"""Dashboard tests sign in a lot: a cheaper argon2 setting keeps them quick.

The hashing is still real argon2id (verify, wrong passwords, timing-equalising work for
unknown emails); only its cost parameters are lowered, as Django does in its tests.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from powerpost.accounts import passwords


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
