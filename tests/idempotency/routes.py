"""A test-only creating route that opts into Idempotency-Key and can be held open or made
to fail, so in-flight and 5xx behaviour can be shown deterministically."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from fastapi import APIRouter, Request

from powerpost.auth.capabilities import ContentGenerate
from powerpost.kit.routing import ApiRoute, Idempotent
from powerpost.kit.schemas import RequestModel

router = APIRouter(route_class=ApiRoute)


@dataclass
class Work:
    calls: int = 0
    hold: bool = False
    fail: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)
    entered: asyncio.Event = field(default_factory=asyncio.Event)


class WorkBody(RequestModel):
    name: str


@router.post("/_idem/work", dependencies=[Idempotent])
async def work(auth: ContentGenerate, body: WorkBody, request: Request) -> dict[str, object]:
    state: Work = request.app.state.idem_work
    state.calls += 1
    state.entered.set()
    if state.hold:
        await state.release.wait()
    if state.fail:
        raise RuntimeError("the work broke")
    return {"name": body.name, "call": state.calls}
