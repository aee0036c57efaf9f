"""The HTTP side every OpenAI-compatible provider shares: retry policy, `Retry-After`
parsing, the vendor's error text, and the one retrying send all of them use.

429, 5xx, timeouts and connection errors (and whatever else the policy lists, such as 409
for captions) are retried with exponential backoff that honours `Retry-After`, then surface
as a retryable `ProviderError` so the job layer can try again later; any other error status
is final. A `Retry-After` longer than the policy allows is not waited out inside one job
attempt: it becomes `RateLimitedError`, whose `retry_after` the job layer waits instead.

What reaches the error message (and so, through the job, the client): our own sentence,
plus the vendor's structured `error.message` passed through `vendor_text` (one line, keys
redacted, bounded). A rejected key (401/403) is logged and never quoted: vendors echo part
of the key back. A body that is not the vendor's JSON error (a proxy's HTML page, a stack
trace) is logged, not quoted.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC

import httpx

from powerpost.kit.providers import MAX_VENDOR_CHARS, ProviderError, vendor_text

__all__ = [
    "MAX_ERROR_CHARS",
    "OpenAICompatProvider",
    "RateLimitedError",
    "RetryPolicy",
    "Sleep",
    "error_message",
    "retry_after_seconds",
    "send_with_retries",
]

log = logging.getLogger("powerpost.providers")

Sleep = Callable[[float], Awaitable[None]]

# vendor error text is echoed into job errors; keep it short
MAX_ERROR_CHARS = MAX_VENDOR_CHARS


class RateLimitedError(ProviderError):
    """The provider asked us to wait longer than is worth waiting inside one job attempt;
    `retry_after` tells the job layer when to try again."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retryable=True, retry_after=retry_after)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    # a Retry-After longer than this is not waited out here: the job layer retries later
    max_retry_after: float = 60.0
    sleep: Sleep = field(default=asyncio.sleep)
    retryable_statuses: frozenset[int] = frozenset({408, 429})

    def backoff(self, attempt: int) -> float:
        return float(min(self.backoff_cap, self.backoff_base * 2**attempt))

    def is_retryable(self, status: int) -> bool:
        return status in self.retryable_statuses or status >= 500


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """A Retry-After header's wait: delta-seconds or an HTTP date; None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is not a wait
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def error_message(response: httpx.Response) -> str:
    """The vendor's `error.message` if it sent one (made fit to quote by `vendor_text`),
    else just the status's reason phrase: a raw body is never quoted."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return vendor_text(str(error["message"])) or response.reason_phrase
        if isinstance(error, str):
            return vendor_text(error) or response.reason_phrase
    return response.reason_phrase or "no reason given"


def _timeout_of(request: httpx.Request) -> float | None:
    timeouts = request.extensions.get("timeout")
    if isinstance(timeouts, Mapping):
        value = timeouts.get("read")
        if isinstance(value, int | float):
            return float(value)
    return None


async def send_with_retries(
    client: httpx.AsyncClient,
    build: Callable[[], httpx.Request],
    *,
    policy: RetryPolicy,
    what: str,
    stream: bool = False,
) -> httpx.Response:
    """Send the request `build` makes, retrying transient failures (see the module doc).

    `build` is called for every attempt so multipart bodies are fresh. With `stream=True`
    the successful response is returned unread and the caller must close it. `what` names
    the call in error messages ("The caption model", "the video generation request").
    """
    attempt = 0
    while True:
        delay: float | None = None
        request = build()
        try:
            response = await client.send(request, stream=stream)
        except httpx.TimeoutException:
            seconds = _timeout_of(request)
            within = f" within {seconds:g} s" if seconds is not None else ""
            problem = f"{what} timed out (it did not answer{within})"
        except httpx.TransportError as exc:
            problem = f"{what} could not be reached ({type(exc).__name__})"
        else:
            if response.is_success:
                return response
            if stream:
                await response.aread()
                await response.aclose()
            status = response.status_code
            message = error_message(response)
            if status in (401, 403):
                # The vendor's text can quote part of the key; it goes to the log only.
                log.error("%s rejected the API key (%s): %s", what, status, message)
                raise ProviderError(
                    f"{what} rejected this server's credentials ({status}); "
                    "the operator must check the API key"
                )
            if not policy.is_retryable(status):
                # 400/404/413/422: request problems a retry cannot fix
                raise ProviderError(f"{what} refused the request ({status}): {message}")
            problem = f"{what} failed ({status}): {message}"
            delay = retry_after_seconds(response.headers.get("retry-after"))
            if delay is not None and delay > policy.max_retry_after:
                raise RateLimitedError(f"{problem}; it asked to wait {delay:g} s", delay)
        if attempt >= policy.max_retries:
            tries = f" (after {attempt + 1} attempts)" if attempt else ""
            raise ProviderError(problem + tries, retryable=True)
        await policy.sleep(delay if delay is not None else policy.backoff(attempt))
        attempt += 1


class OpenAICompatProvider:
    """The connection half of the image and video providers: where to send, with which key,
    which upstream model serves each PowerPost model, and how to retry."""

    name = "openai"

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        api_key: str,
        model_map: Mapping[str, str],
        timeout: float,
        max_retries: int,
        *,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_retry_after: float = 60.0,
        sleep: Sleep = asyncio.sleep,
        retryable_statuses: frozenset[int] = RetryPolicy.retryable_statuses,
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._model_map = dict(model_map)
        self._timeout = timeout
        self._policy = RetryPolicy(
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            max_retry_after=max_retry_after,
            sleep=sleep,
            retryable_statuses=retryable_statuses,
        )

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"}

    def _upstream(self, model: str) -> str:
        upstream = self._model_map.get(model)
        if not upstream:
            raise ProviderError(f"no upstream model is configured for {model}")
        return upstream

    async def _send(
        self, build: Callable[[], httpx.Request], *, what: str, stream: bool = False
    ) -> httpx.Response:
        return await send_with_retries(
            self._client, build, policy=self._policy, what=what, stream=stream
        )
