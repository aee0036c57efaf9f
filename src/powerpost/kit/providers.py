"""What every AI provider family shares: the error a provider raises and the registry that
finds a provider by the name an operator configured.

Captions, images and videos each build one `ProviderRegistry`; the registry knows nothing
about what its providers do, only how to name, replace and build them. Keeping the error
here (not in a feature) lets `kit.openai_http` raise it without importing a feature.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

import httpx

from powerpost.config import Settings

__all__ = ["ProviderError", "ProviderFactory", "ProviderRegistry"]

P = TypeVar("P")

# A factory gets the settings and the process's shared HTTP client and returns a provider
# for one job.
ProviderFactory = Callable[[Settings, httpx.AsyncClient], P]


class ProviderError(Exception):
    """The provider could not produce a result; the job fails and is refunded."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class ProviderRegistry(Generic[P]):
    """Provider factories by name; `choose` reads the configured name from the settings.

    `register` lets an operator module (loaded with POWERPOST_JOB_MODULES) or a test add a
    back end, or replace a built-in one, without touching the task that uses it. Built-ins
    can be replaced but not removed, so a configured default never silently disappears.
    """

    def __init__(
        self,
        kind: str,
        choose: Callable[[Settings], str],
        built_in: Mapping[str, ProviderFactory[P]],
    ) -> None:
        self._kind = kind
        self._choose = choose
        self._built_in = frozenset(built_in)
        self._factories: dict[str, ProviderFactory[P]] = dict(built_in)

    def register(self, name: str, factory: ProviderFactory[P]) -> None:
        if not name:
            raise ValueError("a provider needs a name")
        self._factories[name] = factory

    def unregister(self, name: str) -> None:
        if name in self._built_in:
            raise ValueError(f"the built-in {name!r} provider cannot be removed")
        self._factories.pop(name, None)

    def names(self) -> frozenset[str]:
        return frozenset(self._factories)

    def provider_for(self, settings: Settings, http: httpx.AsyncClient) -> P:
        name = self._choose(settings)
        factory = self._factories.get(name)
        if factory is None:
            raise ProviderError(f"no {self._kind} provider is registered as {name!r}")
        return factory(settings, http)
