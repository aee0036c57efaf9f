"""The README's "Receiving webhooks" receiver, run as written, gets and verifies a real
delivery and refuses a forged one."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi import FastAPI

from tests.fixtures.factories import Factory
from tests.fixtures.processes import free_port
from tests.webhooks.support import add_endpoint, emit, settled, tenant_headers

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_receiver() -> str:
    text = README.read_text()
    section = text[text.index("## Receiving webhooks") :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


async def test_the_readme_receiver_verifies_a_delivery(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, tmp_path: Path
) -> None:
    code = readme_receiver()
    assert len(code.strip().splitlines()) <= 20
    script = tmp_path / "receiver.py"
    script.write_text(code)
    port = free_port()
    tenant, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, f"http://127.0.0.1:{port}/webhooks")
    process = subprocess.Popen(  # noqa: ASYNC220 - a child for the test's whole length
        [sys.executable, str(script)],
        env={"POWERPOST_WEBHOOK_SECRET": hook["secret"], "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        async with httpx.AsyncClient() as outside:
            deadline = time.monotonic() + 10
            while True:
                try:
                    forged = await outside.post(
                        f"http://127.0.0.1:{port}/webhooks",
                        content=b"{}",
                        headers={
                            "webhook-id": "msg_x",
                            "webhook-timestamp": str(int(time.time())),
                            "webhook-signature": "v1,AAAA",
                        },
                    )
                    break
                except httpx.ConnectError:
                    assert time.monotonic() < deadline, "the receiver did not start"
                    await asyncio.sleep(0.1)
            assert forged.status_code == 400
        event_id = await emit(app.state.db, tenant.workspace_id)
        (delivery,) = await settled(app, hook["webhook_id"])
        assert delivery.status == "succeeded"
        assert delivery.last_status_code == 204
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert output.splitlines()[0].startswith(f"{event_id} generation.completed ")
