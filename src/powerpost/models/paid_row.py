from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Mapped

# Every paid row carries the mode of the key that started it ("live" or "test").
LIVE = "live"
MODE_KNOWN = "mode IN ('live', 'test')"


class PaidJobRow:
    """The columns every paid job's row has, for `jobs.paid` to work on any of them.

    A typing contract only: each model declares its own columns (with its own constraints),
    and inheriting this promises they exist with these types. `credits_used` is what is
    held while the work runs and what was captured once it finished; `finished_at` is set
    when it completed or failed.
    """

    if TYPE_CHECKING:
        id: Mapped[str]
        account_id: Mapped[str]
        workspace_id: Mapped[str]
        mode: Mapped[str]
        api_key_id: Mapped[str | None]
        status: Mapped[str]
        credits_used: Mapped[int]
        error_code: Mapped[str | None]
        error_message: Mapped[str | None]
        finished_at: Mapped[datetime | None]
