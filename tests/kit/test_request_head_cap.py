"""Issue 8, B1: the request line and headers are capped at the protocol (431), on real
servers on loopback: `powerpost serve` as a process, and each capped protocol class."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send
from tests.fixtures.processes import running_server_process

from powerpost.kit.http_server import (
    MAX_REQUEST_HEAD,
    HeadCappedH11Protocol,
    HeadCappedHttpToolsProtocol,
)


async def _echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = str(size).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def _server(protocol: type[Any]) -> Iterator[str]:
    config = uvicorn.Config(
        _echo_app,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        loop="asyncio",
        log_config=None,
        access_log=False,
        http=protocol,
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="head-cap-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def _raw_exchange(base: str, request: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def _assert_cap(base: str, path: str = "/") -> None:
    big = httpx.get(f"{base}{path}", headers={"x-big": "a" * 65536}, timeout=10)
    assert big.status_code == 431
    assert big.json()["error"]["code"] == "VALIDATION_ERROR"
    assert len(big.content) < 200
    # A long request line is part of the head too.
    target = path.encode() + b"?" + b"a" * 65536
    line = _raw_exchange(base, b"GET " + target + b" HTTP/1.1\r\nhost: x\r\n\r\n")
    assert line.startswith(b"HTTP/1.1 431 ")

    with httpx.Client(base_url=base, timeout=10) as client:
        # Just under the cap, five times on one connection: the count starts again for
        # every request, and a large body is not mistaken for a large head.
        header = {"x-fill": "b" * (MAX_REQUEST_HEAD - 1024)}
        for _ in range(5):
            response = client.get(path, headers=header)
            assert response.status_code == 200
        posted = client.post(path, content=b"c" * 3_000_000, headers=header)
        if path == "/":
            assert posted.status_code == 200
            assert posted.text == "3000000"
        else:  # PowerPost itself: refused for the body, by the body limit
            assert posted.status_code == 413


@pytest.mark.parametrize("protocol", [HeadCappedHttpToolsProtocol, HeadCappedH11Protocol])
def test_each_protocol_answers_431_to_a_long_head(protocol: type[Any]) -> None:
    with _server(protocol) as base:
        _assert_cap(base)


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _flood(base: str, size: int, sent: threading.Barrier, measured: threading.Event) -> None:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-flood: ")
        chunk = b"f" * 65536
        try:
            for _ in range(size // len(chunk)):
                sock.sendall(chunk)
        except OSError:
            pass  # refused: the server stopped reading
        sent.wait(timeout=60)
        measured.wait(timeout=60)  # the connection stays open while memory is measured


@pytest.mark.multiprocess
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_powerpost_serve_caps_the_head_and_its_memory(env: dict[str, str]) -> None:
    with running_server_process(env) as (base, process):
        _assert_cap(base, "/healthz")

        before = _rss_bytes(process.pid)
        flood = 16 * 1024 * 1024
        sent, measured = threading.Barrier(5), threading.Event()
        threads = [
            threading.Thread(target=_flood, args=(base, flood, sent, measured)) for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        sent.wait(timeout=60)
        time.sleep(0.5)  # the server reads what is still in flight
        grown = _rss_bytes(process.pid) - before
        measured.set()
        for thread in threads:
            thread.join(timeout=60)
        # Four 16 MiB heads held whole would add 64 MiB and more.
        assert grown < 16 * 1024 * 1024, grown
        assert httpx.get(f"{base}/healthz").status_code == 200
