"""Who a piece of paid work is done for, in plain ids.

Services take an `Actor` rather than the API layer's authorisation object, so they do not
depend on how a request was authenticated (an API key today; the dashboard, the CLI or a
scheduled post tomorrow). Routers translate with `actor_from`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["LIVE", "MODES", "TEST", "Actor", "actor_from", "price_for"]

# A key's mode. Test-mode objects are invisible to live keys and the other way round, test
# mode spends no credits and its AI work always runs on the offline providers.
LIVE = "live"
TEST = "test"
MODES = (LIVE, TEST)


def price_for(mode: str, price: int) -> int:
    """What work priced at `price` costs in `mode`: test mode spends nothing."""
    return 0 if mode == TEST else price


# Keyword-only: every field but one is a string id, so a positional mix-up would go unseen.
@dataclass(frozen=True, kw_only=True)
class Actor:
    account_id: str
    workspace_id: str
    # the key the work was started with (recorded on ledger entries); None when not by a key
    api_key_id: str | None = None
    # the key's mode ("live" or "test"); work started another way is live
    mode: str = LIVE


class _Principal(Protocol):
    @property
    def mode(self) -> str: ...


class _WorkspaceAuth(Protocol):
    """What `actor_from` reads of a request's authorisation (the API-key auth satisfies it)."""

    @property
    def account_id(self) -> str: ...

    @property
    def key_id(self) -> str: ...

    @property
    def principal(self) -> _Principal: ...

    def require_workspace(self) -> str: ...


def actor_from(auth: _WorkspaceAuth) -> Actor:
    """The actor of a workspace route's request."""
    return Actor(
        account_id=auth.account_id,
        workspace_id=auth.require_workspace(),
        api_key_id=auth.key_id,
        mode=auth.principal.mode,
    )
