"""Webhook tests run the real app (embedded job engine) against a local receiver; the
operator settings allow http and loopback, and a receiver has 0.5 s to answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.webhooks.receiver import Receiver

TIMEOUT = 0.5


@pytest.fixture
def webhook_timeout() -> float:
    """Seconds a receiver has to answer; a module overrides this fixture to change it."""
    return TIMEOUT


@pytest.fixture
def env(env: dict[str, str], webhook_timeout: float) -> dict[str, str]:
    return {
        **env,
        "POWERPOST_ALLOW_HTTP_URLS": "true",
        "POWERPOST_ALLOW_LOOPBACK_URLS": "true",
        "POWERPOST_WEBHOOK_TIMEOUT": str(webhook_timeout),
        "POWERPOST_JOB_DISPATCH_INTERVAL": "0.2",
        "POWERPOST_JOB_REKICK_SECONDS": "1",
    }


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()
