"""Settings → Webhooks in the dashboard: add (secret shown once), rotate, test, the
delivery log with filters and Redeliver, enable/disable, flags, and other accounts kept out."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook

from powerpost.models import WebhookEndpoint
from tests.dashboard.support import sign_in_tenant
from tests.fixtures.factories import Factory
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import emit, settled

PAGE = "/settings/webhooks"
SECRET = re.compile(r'id="new-secret">(whsec_[A-Za-z0-9+/=]+)<')
ROW = re.compile(r'<tr id="hook-([0-9a-f-]{36})" class="hook-row">')


async def test_manage_endpoints_and_read_the_log(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    tenant = await factory.account()
    csrf = await sign_in_tenant(client, tenant)
    ws = tenant.workspace_id
    empty = await client.get(PAGE)
    assert empty.status_code == 200
    assert "No endpoints yet" in empty.text
    assert '<a href="/settings/webhooks" aria-current="page">Webhooks</a>' in empty.text

    form = {"csrf_token": csrf, "workspace": ws, "url": receiver.base + "/hook"}
    refused = await client.post(PAGE, data={**form, "csrf_token": "wrong"})
    assert refused.status_code == 403
    bad = await client.post(
        PAGE, data={**form, "url": "https://10.0.0.1/x", "events": "post.failed"}
    )
    assert bad.status_code == 400
    assert "private or internal" in bad.text
    assert 'value="https://10.0.0.1/x"' in bad.text  # the form keeps what was typed

    added = await client.post(
        PAGE, data={**form, "events": ["generation.completed", "webhook.nope"]}
    )
    assert added.status_code == 400  # an unknown event from a crafted form
    added = await client.post(PAGE, data={**form, "events": ["generation.completed"]})
    assert added.status_code == 200, added.text
    found = SECRET.search(added.text)
    assert found is not None
    secret = found.group(1)
    (endpoint_id,) = ROW.findall(added.text)
    listing = await client.get(PAGE)
    assert secret not in listing.text  # shown once
    assert receiver.base + "/hook" in listing.text

    rotated = await client.post(
        f"{PAGE}/{endpoint_id}/rotate", data={"csrf_token": csrf, "workspace": ws}
    )
    new = SECRET.search(rotated.text)
    assert new is not None
    assert new.group(1) != secret

    tested = await client.post(
        f"{PAGE}/{endpoint_id}/test", data={"csrf_token": csrf, "workspace": ws}
    )
    assert tested.status_code == 303
    assert tested.headers["location"].startswith(f"{PAGE}/{endpoint_id}?")
    (got,) = await receiver.wait_for("/hook", 1)
    Webhook(new.group(1)).verify(got.body, got.headers)
    Webhook(secret).verify(got.body, got.headers)  # the overlap

    event_id = await emit(app.state.db, ws)
    await receiver.wait_for("/hook", 2)
    await settled(app, endpoint_id, 2)
    log = await client.get(f"{PAGE}/{endpoint_id}?workspace={ws}")
    assert log.status_code == 200
    assert event_id in log.text
    assert "webhook.test" in log.text
    assert 'id="success-rate">100%<' in log.text
    only_tests = await client.get(f"{PAGE}/{endpoint_id}?workspace={ws}&event=webhook.test")
    assert event_id not in only_tests.text
    none_failed = await client.get(f"{PAGE}/{endpoint_id}?workspace={ws}&status=failed")
    assert "No deliveries match this filter" in none_failed.text

    delivery_id = re.search(
        r'id="delivery-([0-9a-f-]{36})"',
        (await client.get(f"{PAGE}/{endpoint_id}?workspace={ws}&event=generation.completed")).text,
    )
    assert delivery_id is not None
    again = await client.post(
        f"{PAGE}/{endpoint_id}/deliveries/{delivery_id.group(1)}/redeliver",
        data={"csrf_token": csrf, "workspace": ws},
    )
    assert again.status_code == 303
    third = (await receiver.wait_for("/hook", 3))[2]
    assert third.headers["webhook-id"] == event_id

    off = await client.post(
        f"{PAGE}/{endpoint_id}/disable", data={"csrf_token": csrf, "workspace": ws}
    )
    assert off.status_code == 303
    assert "disabled (manual)" in (await client.get(PAGE)).text
    await client.post(f"{PAGE}/{endpoint_id}/enable", data={"csrf_token": csrf, "workspace": ws})
    assert "disabled" not in ROW.split((await client.get(PAGE)).text)[-1].split("</tr>")[0]

    # an endpoint turned off for failing is flagged
    async with app.state.db.write() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .values(
                enabled=False, disabled_reason="failing", disabled_at=WebhookEndpoint.updated_at
            )
        )
    flagged = await client.get(PAGE)
    assert f'id="flag-{endpoint_id}"' in flagged.text
    assert "failed for three days" in flagged.text

    # another account sees none of it
    other = await factory.account()
    client.cookies.clear()
    other_csrf = await sign_in_tenant(client, other)
    assert (await client.get(f"{PAGE}/{endpoint_id}?workspace={ws}")).status_code == 404
    assert (await client.get(f"{PAGE}/{endpoint_id}")).status_code == 404
    theft = await client.post(
        f"{PAGE}/{endpoint_id}/rotate",
        data={"csrf_token": other_csrf, "workspace": other.workspace_id},
    )
    assert theft.status_code == 404
    assert receiver.base not in (await client.get(PAGE)).text

    deleted = await client.post(
        f"{PAGE}/{endpoint_id}/delete",
        data={"csrf_token": other_csrf, "workspace": other.workspace_id},
    )
    assert deleted.status_code == 404


async def test_a_person_adds_test_mode_endpoints_and_sees_both_modes(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    tenant = await factory.account()
    csrf = await sign_in_tenant(client, tenant)
    form = {"csrf_token": csrf, "workspace": tenant.workspace_id, "events": "post.failed"}
    await client.post(PAGE, data={**form, "url": receiver.base + "/live"})
    added = await client.post(PAGE, data={**form, "url": receiver.base + "/test", "mode": "test"})
    assert added.status_code == 200, added.text
    async with app.state.db.read() as session:
        rows = (await session.execute(select(WebhookEndpoint))).scalars().all()
    modes = {
        row.url.rsplit("/", 1)[1]: row.mode for row in rows if row.account_id == tenant.account_id
    }
    assert modes == {"live": "live", "test": "test"}
    listing = (await client.get(PAGE)).text
    assert len(ROW.findall(listing)) == 2  # a person owns both modes
    assert '<span class="badge">test</span>' in listing
