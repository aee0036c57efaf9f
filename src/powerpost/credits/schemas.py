from __future__ import annotations

from pydantic import BaseModel


class CreditBalance(BaseModel):
    balance: int
