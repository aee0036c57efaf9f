"""The HTTP side every OpenAI-compatible provider shares: retry policy, `Retry-After`
parsing, the vendor's error text, and a retrying send.

429, 5xx, timeouts and connection errors are retried with exponential backoff that honours
`Retry-After`, then surface as a retryable `ProviderError` so the job layer can try again
later; any other error status is final. A `Retry-After` longer than the policy allows is not
waited out inside one job attempt.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC

import httpx

from powerpost.kit.providers import ProviderError

__all__ = [
    "MAX_ERROR_CHARS",
    "OpenAICompatProvider",
    "RetryPolicy",
    "Sleep",
    "error_message",
    "retry_after_seconds",
    "send_with_retries",
]

Sleep = Callable[[float], Awaitable[None]]

# vendor error text is echoed into job errors; keep it short
MAX_ERROR_CHARS = 300


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
    """The vendor's `error.message` if it sent one, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])[:MAX_ERROR_CHARS]
        if isinstance(error, str):
            return error[:MAX_ERROR_CHARS]
    return response.text.strip()[:MAX_ERROR_CHARS] or response.reason_phrase


async def send_with_retries(
    client: httpx.AsyncClient,
    build: Callable[[], httpx.Request],
    *,
    policy: RetryPolicy,
    what: str,
    stream: bool = False,
) -> httpx.Response:
    """Send the request `build` makes, retrying transient failures.

    `build` is called for every attempt so multipart bodies are fresh. With `stream=True`
    the successful response is returned unread and the caller must close it.
    """
    attempt = 0
    while True:
        delay: float | None
        try:
            response = await client.send(build(), stream=stream)
        except httpx.TimeoutException as exc:
            problem, delay = f"{what} timed out", None
            cause: BaseException = exc
        except httpx.TransportError as exc:
            problem, delay = f"{what} could not reach the provider ({type(exc).__name__})", None
            cause = exc
        else:
            if response.is_success:
                return response
            if stream:
                await response.aread()
                await response.aclose()
            message = error_message(response)
            status = response.status_code
            if not policy.is_retryable(status):
                raise ProviderError(f"{what} was rejected ({status}): {message}")
            problem = f"{what} failed ({status}): {message}"
            delay = retry_after_seconds(response.headers.get("retry-after"))
            cause = ProviderError(problem, retryable=True)
            if delay is not None and delay > policy.max_retry_after:
                raise ProviderError(
                    f"{problem}; the provider asked to wait {delay:g} s", retryable=True
                ) from cause
        if attempt >= policy.max_retries:
            suffix = f" after {attempt + 1} attempts" if attempt else ""
            raise ProviderError(problem + suffix, retryable=True) from cause
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
        max_retry_after: float = 60.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._model_map = dict(model_map)
        self._timeout = timeout
        self._policy = RetryPolicy(
            max_retries=max_retries,
            backoff_base=backoff_base,
            max_retry_after=max_retry_after,
            sleep=sleep,
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
