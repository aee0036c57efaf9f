"""Starting a job the caller pays for: hold the price, then queue the work, in the
caller's transaction.

Both writes share the transaction that inserted the job's row, so a refused hold (402) or
any later error leaves neither a hold, a row nor a job behind; the job's reference settles
or refunds the hold exactly once when it concludes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.credits import service as credits
from powerpost.jobs.service import enqueue


async def hold_and_enqueue(
    session: AsyncSession,
    *,
    account_id: str,
    workspace_id: str,
    api_key_id: str | None,
    subject_id: str,
    amount: int,
    reference: str,
    reason: str,
    kind: str,
    max_attempts: int,
    payload: Mapping[str, Any] | None = None,
) -> int:
    """Hold `amount` under `reference` and queue `kind` for `subject_id`; the balance left."""
    remaining = await credits.hold(
        session,
        account_id,
        amount,
        reference=reference,
        reason=reason,
        workspace_id=workspace_id,
        api_key_id=api_key_id,
    )
    await enqueue(
        session,
        kind=kind,
        account_id=account_id,
        workspace_id=workspace_id,
        subject_id=subject_id,
        payload=payload or {},
        max_attempts=max_attempts,
    )
    return remaining
