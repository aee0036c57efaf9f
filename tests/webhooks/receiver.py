"""A local webhook receiver on loopback, speaking plain HTTP/1.1 over asyncio streams, so
tests can make it answer, fail, answer 410, hang, stream without end, or be down."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() on arrival


@dataclass
class Receiver:
    """`behaviour[path]` is one of ok, fail, gone, hang, flood, or a list of them used one
    per request (the last repeats)."""

    behaviour: dict[str, str | list[str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    def on(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def wait_for(self, path: str, count: int, within: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + within
        while len(self.on(path)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{path}: got {len(self.on(path))} requests, wanted {count}")
            await asyncio.sleep(0.02)
        return self.on(path)

    def _next(self, path: str) -> str:
        plan = self.behaviour.get(path, "ok")
        if isinstance(plan, str):
            return plan
        return plan.pop(0) if len(plan) > 1 else plan[0]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                await self._serve(reader, writer)
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            line = await reader.readline()
            if not line:
                return
            _method, path, _ = line.decode().split(" ", 2)
            headers: dict[str, str] = {}
            while (raw := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = raw.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.received.append(Received(path, headers, body, time.time()))
            mode = self._next(path)
            if mode == "hang":
                await asyncio.sleep(3600)
            if mode == "flood":
                # A 200 whose body never ends: 1 GB announced, sent until cut off.
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n")
                chunk = b"x" * 65536
                while True:
                    writer.write(chunk)
                    await writer.drain()
            status = {"ok": b"200 OK", "fail": b"500 Oops", "gone": b"410 Gone"}[mode]
            answer = b"thanks" if mode == "ok" else b"no"
            writer.write(
                b"HTTP/1.1 "
                + status
                + b"\r\nContent-Length: "
                + str(len(answer)).encode()
                + b"\r\n\r\n"
                + answer
            )
            await writer.drain()
