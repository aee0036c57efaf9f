from __future__ import annotations

import httpx

from tests.fixtures.factories import Factory, headers


async def test_credits_with_a_new_key(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.account()
    _, secret = await factory.key(tenant)
    response = await client.get("/api/v1/account/credits", headers=headers(secret))
    assert response.status_code == 200
    assert response.json() == {"balance": 50}
    assert response.headers["x-ratelimit-limit"] == "300"
