"""The `Idempotency-Key` header (IETF httpapi draft "The Idempotency-Key HTTP Header
Field"; powerpost-api.md §14) for creating POSTs.

A route opts in with `dependencies=[Idempotent]` (`powerpost.kit.routing`); the app's
`IdempotencyGuard` (guard.py) then claims the key before the route runs, replays a stored
answer, or refuses a reuse. Expired keys are swept by the dispatching process (sweep.py).
"""

from powerpost.idempotency.guard import IdempotencyGuard
from powerpost.idempotency.sweep import PeriodicKeySweep, sweep_expired

__all__ = ["IdempotencyGuard", "PeriodicKeySweep", "sweep_expired"]
