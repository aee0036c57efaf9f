"""What every AI provider family shares: the error a provider raises, the one policy that
turns it into a job outcome and a client-safe message, and the registry that finds a
provider by the name an operator configured.

Captions, images and videos each build one `ProviderRegistry`; the registry knows nothing
about what its providers do, only how to name, replace and build them. Keeping the error
here (not in a feature) lets `kit.openai_http` raise it without importing a feature.

The failure policy, the same for every paid feature:
- a `ProviderError` is our own sentence about what went wrong (vendor text in it has been
  through `vendor_text`); retryable ones are tried again, after `retry_after` seconds when
  the vendor said how long to wait, otherwise with the engine's backoff;
- `client_message` is what a client may read in `error.message`: the feature's own failures
  as they are, the engine's (timeout, lost worker) in plain words, and for anything else
  (an internal exception's text) a generic sentence; the details go to the server log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

import httpx

from powerpost.config import Settings
from powerpost.kit.actor import LIVE, TEST
from powerpost.kit.job_errors import (
    JOB_CANCELLED,
    JOB_TIMEOUT,
    WORKER_LOST,
    JobError,
    PermanentJobError,
    RetryableJobError,
)

__all__ = [
    "ENHANCE_SUFFIX",
    "MAX_VENDOR_CHARS",
    "OFFLINE",
    "ProviderError",
    "ProviderFactory",
    "ProviderRegistry",
    "client_message",
    "provider_failure",
    "redact_secrets",
    "vendor_text",
]

P = TypeVar("P")

# The built-in provider every family has: no network, no cost; test mode always uses it.
OFFLINE = "offline"

# A factory gets the settings and the process's shared HTTP client and returns a provider
# for one job.
ProviderFactory = Callable[[Settings, httpx.AsyncClient], P]


# What "enhance the prompt" adds for providers that take a prompt (images and videos alike).
ENHANCE_SUFFIX = (
    "Make it polished and professional: one clear focal subject, balanced lighting, "
    "a cohesive colour palette and crisp detail."
)

# vendor text quoted in a job's error is cut to this
MAX_VENDOR_CHARS = 300

# Key-shaped strings: OpenAI-style `sk-…`/`pk-…` keys, bearer tokens, `key=…` pairs, and any
# long unbroken run of letters and digits (a token or hash; ids with hyphens are left alone).
_SECRETS = re.compile(
    r"\b(?:sk|pk|rk|pp)[-_][A-Za-z0-9_\-]{6,}"
    r"|\bbearer\s+\S+"
    r"|\b(?:api[_-]?key|access[_-]?token|token|secret|password)\s*[:=]\s*\S+"
    r"|\b(?=[A-Za-z_]*\d)[A-Za-z0-9_]{32,}\b",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def redact_secrets(text: str) -> str:
    """`text` with anything shaped like a key or token replaced by `[redacted]`."""
    return _SECRETS.sub("[redacted]", text)


def vendor_text(text: str, limit: int = MAX_VENDOR_CHARS) -> str:
    """A vendor's own words made fit to quote to a client: one line, no control
    characters, key-shaped strings redacted, at most `limit` characters."""
    one_line = " ".join(_CONTROL.sub(" ", text).split())
    cleaned = redact_secrets(one_line)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


class ProviderError(Exception):
    """The provider could not produce a result; the job fails and is refunded.

    The message is shown to the client (see `client_message`), so it is written by us; a
    vendor's words go in only through `vendor_text`. `retry_after` (seconds) is how long
    the vendor asked us to wait before trying again.
    """

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable or retry_after is not None
        self.retry_after = retry_after


def provider_failure(exc: ProviderError, *, code: str) -> JobError:
    """The job outcome of a provider's failure: retried (after the vendor's Retry-After when
    it gave one, which the engine honours up to an hour) or final, under the feature's
    error `code`."""
    message = str(exc)
    if exc.retryable:
        return RetryableJobError(message, code=code, retry_after=exc.retry_after)
    return PermanentJobError(message, code=code)


def client_message(error: JobError, *, code: str, subject: str, sentence: bool = False) -> str:
    """What the client is told about a failed job: the feature's own messages (code `code`)
    as they are, minus anything key-shaped; the engine's failures in plain words; never an
    internal exception's text (the engine logged it with its traceback).

    `subject` names the work ("the captions", "the images", "the video"). The engine's
    failures are worded as a clause to follow "could not be generated: ", or with
    `sentence=True` as a sentence of their own.
    """
    if error.code == code:
        return redact_secrets(error.message)
    if error.code == JOB_TIMEOUT:
        clause = f"producing {subject} took too long and was stopped"
    elif error.code == WORKER_LOST:
        clause = f"the worker producing {subject} stopped before it finished"
    elif error.code == JOB_CANCELLED:
        clause = f"producing {subject} was cancelled before it finished"
    else:
        clause = f"producing {subject} failed because of an internal error"
    return f"{clause[:1].upper()}{clause[1:]}." if sentence else clause


class ProviderRegistry(Generic[P]):
    """Provider factories by name; `choose` reads the configured name from the settings.

    Work done for a test-mode key always runs on the `offline` provider, whatever the
    operator configured: test mode spends nothing, so it may not spend a vendor's money
    either (and gives the same answers without a network). This is the one place that
    decides it, for captions, images and videos alike.

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

    def name_for(self, settings: Settings, mode: str = LIVE) -> str:
        """The provider that does work of `mode` ("live" or "test")."""
        return OFFLINE if mode == TEST else self._choose(settings)

    def provider_for(self, settings: Settings, http: httpx.AsyncClient, mode: str = LIVE) -> P:
        """A provider for one job of `mode` (the mode of the row the job works on)."""
        name = self.name_for(settings, mode)
        factory = self._factories.get(name)
        if factory is None:
            raise ProviderError(f"no {self._kind} provider is registered as {name!r}")
        return factory(settings, http)
