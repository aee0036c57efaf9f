"""Dry runs (§14): `?dry_run=true` on publish, schedule and the three generate calls.

A dry run runs every check of the real call, in the same order, and stops where the real
call would start writing: where the real call would fail it raises the same error; where
it would proceed it answers `200 {"dry_run": true, "credits_required": N, "checks": [...]}`.
The pieces every such call shares live here: the query parameter, the answer's shape and
the list of passed checks that becomes the answer. (The balance check is the credits
feature's `credits.service.require`, which kit may not import.)

Nothing is created, so a dry run never claims or stores an Idempotency-Key (see
`kit.routing`): quoting first and then sending the real call with the same key works.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Request
from pydantic import BaseModel, Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

__all__ = ["PARAM", "Checks", "DryRun", "DryRunFlag", "requested"]

PARAM = "dry_run"

DryRunFlag = Annotated[
    bool,
    Query(
        alias=PARAM,
        description="Run every check and quote the credits without creating anything, "
        "queuing any work or moving any credits",
    ),
]

_BOOL = TypeAdapter(bool)


class DryRun(BaseModel):
    dry_run: Literal[True]
    credits_required: int
    checks: list[str] = Field(description="What was checked, in order; all passed")


class Checks:
    """The checks a call passed, in order; `quote` turns them into the dry run's answer."""

    def __init__(self) -> None:
        self.passed: list[str] = []

    def add(self, what: str) -> None:
        self.passed.append(what)

    def quote(self, credits_required: int) -> DryRun:
        return DryRun(dry_run=True, credits_required=credits_required, checks=list(self.passed))


def requested(request: Request) -> bool:
    """Whether the request asks for a dry run, read as the route's `DryRunFlag` reads it.

    A value the flag would refuse is not a dry run here: the route answers it with 400.
    """
    values = request.query_params.getlist(PARAM)
    if not values:
        return False
    try:
        return bool(_BOOL.validate_python(values[-1]))
    except PydanticValidationError:
        return False
