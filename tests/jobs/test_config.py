"""POWERPOST_JOB* settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from powerpost.config import ConfigError, JobSettings, load_settings


def base_env(tmp_path: Path) -> dict[str, str]:
    return {
        "POWERPOST_DATA_DIR": str(tmp_path),
        "POWERPOST_KEY_PEPPERS": "1:" + "11" * 32,
        "POWERPOST_SECRET_KEY": "22" * 32,
    }


def test_defaults(tmp_path: Path) -> None:
    assert load_settings(base_env(tmp_path)).jobs == JobSettings()


def test_every_setting_is_read(tmp_path: Path) -> None:
    env = base_env(tmp_path) | {
        "POWERPOST_JOBS_EMBEDDED": "false",
        "POWERPOST_JOB_CONCURRENCY": "3",
        "POWERPOST_JOB_NETWORK_CONCURRENCY": "20",
        "POWERPOST_JOB_LEASE_SECONDS": "1.5",
        "POWERPOST_JOB_DISPATCH_INTERVAL": "0.25",
        "POWERPOST_JOB_REKICK_SECONDS": "4",
        "POWERPOST_JOB_BACKOFF_BASE": "0.5",
        "POWERPOST_JOB_BACKOFF_CAP": "60",
        "POWERPOST_JOB_SHUTDOWN_GRACE": "45",
        "POWERPOST_JOB_MODULES": "tests.jobs.handlers, my_pkg.tasks",
    }
    assert load_settings(env).jobs == JobSettings(
        embedded=False,
        concurrency=3,
        network_concurrency=20,
        lease_seconds=1.5,
        dispatch_interval=0.25,
        rekick_seconds=4.0,
        backoff_base=0.5,
        backoff_cap=60.0,
        shutdown_grace=45.0,
        modules=("tests.jobs.handlers", "my_pkg.tasks"),
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("POWERPOST_JOBS_EMBEDDED", "maybe", "true or false"),
        ("POWERPOST_JOB_CONCURRENCY", "0", "at least 1"),
        ("POWERPOST_JOB_NETWORK_CONCURRENCY", "0", "at least 1"),
        ("POWERPOST_JOB_LEASE_SECONDS", "0.1", "between 0.3"),
        ("POWERPOST_JOB_LEASE_SECONDS", "soon", "number of seconds"),
        ("POWERPOST_JOB_DISPATCH_INTERVAL", "nan", "between"),
        ("POWERPOST_JOB_BACKOFF_CAP", "0.5", "must not be below"),
        ("POWERPOST_JOB_SHUTDOWN_GRACE", "-1", "between 0"),
        ("POWERPOST_JOB_MODULES", "tests/jobs/handlers.py", "dotted module names"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(base_env(tmp_path) | {name: value})
    assert name in str(caught.value)
