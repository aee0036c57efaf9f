"""Base for request bodies: unknown fields are refused and JSON types are taken strictly
(`"2"` is not a number and `true` is not 1), so a client's mistake is named, not guessed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
