"""The one provider failure policy (`kit.providers`): what a client may read of a failed
job, how vendor text is made fit to quote, and how a provider error becomes a job outcome."""

from __future__ import annotations

import pytest

from powerpost.kit.job_errors import JobError, PermanentJobError, RetryableJobError
from powerpost.kit.providers import (
    ProviderError,
    client_message,
    provider_failure,
    redact_secrets,
    vendor_text,
)

CODE = "THING_FAILED"


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (JobError("the model refused the content", code=CODE), "the model refused the content"),
        (
            JobError("RuntimeError: password=hunter2"),
            "producing the thing failed because of an internal error",
        ),
        (JobError("slow", code="JOB_TIMEOUT"), "producing the thing took too long and was stopped"),
        (
            JobError("gone", code="WORKER_LOST"),
            "the worker producing the thing stopped before it finished",
        ),
        (
            JobError("x", code="JOB_CANCELLED"),
            "producing the thing was cancelled before it finished",
        ),
        (
            JobError("KeyError: 'sk-live-abcdef123456'", code="OTHER_FEATURE_FAILED"),
            "producing the thing failed because of an internal error",
        ),
        (JobError("bad key sk-live-abcdef123456", code=CODE), "bad key [redacted]"),
    ],
)
def test_client_message(error: JobError, shown: str) -> None:
    assert client_message(error, code=CODE, subject="the thing") == shown


def test_client_message_as_a_sentence_keeps_the_features_own_words() -> None:
    internal = JobError("ValueError: boom")
    assert client_message(internal, code=CODE, subject="the thing", sentence=True) == (
        "Producing the thing failed because of an internal error."
    )
    own = JobError("the model refused the content", code=CODE)
    assert client_message(own, code=CODE, subject="the thing", sentence=True) == (
        "the model refused the content"
    )


def test_vendor_text_is_one_bounded_line_without_keys() -> None:
    text = "Bad\\nrequest:\\x00 key sk-proj-AbC123xyz789 and Bearer abc.def rejected " + "x" * 400
    cleaned = vendor_text(text.replace("\\n", "\n").replace("\\x00", "\x00"))
    assert cleaned.startswith("Bad request: key [redacted] and [redacted] rejected x")
    assert len(cleaned) == 300
    assert cleaned.endswith("…")
    # ids with hyphens and ordinary words survive
    media = "media 5f0c2a9e-1b7d-4c1e-9a4b-0d3e5f6a7b8c is missing"
    assert redact_secrets(media) == media
    assert redact_secrets("token: abc123 api_key=zzz") == "[redacted] [redacted]"


def test_provider_failure_carries_retry_after() -> None:
    later = provider_failure(ProviderError("busy", retry_after=120.0), code=CODE)
    assert isinstance(later, RetryableJobError)
    assert (later.code, later.message, later.retry_after) == (CODE, "busy", 120.0)
    soon = provider_failure(ProviderError("busy", retryable=True), code=CODE)
    assert isinstance(soon, RetryableJobError)
    assert soon.retry_after is None
    final = provider_failure(ProviderError("refused"), code=CODE)
    assert isinstance(final, PermanentJobError)
    assert final.code == CODE
