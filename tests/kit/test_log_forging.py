"""Issue 8, B5: nothing a client sends can start a line in the logs."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI

from powerpost.kit.redact import escape_control, safe_for_log
from powerpost.kit.security import generate_key

FORGED = "2024-01-01 00:00:00 INFO powerpost.access: GET /admin 200"


async def test_the_access_log_escapes_a_decoded_newline(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="powerpost.access")
    for raw in ("%0a", "%0d%0a", "%1b", "%7f", "%c2%85", "%e2%80%a8"):
        await client.get(f"/api/v1/x{raw}{FORGED.replace(' ', '%20')}")
    lines = [r.getMessage() for r in caplog.records if r.name == "powerpost.access"]
    assert len(lines) == 6
    for line in lines:
        assert line.isprintable(), line
        assert "\n" not in line
        assert "\r" not in line
    assert "/api/v1/x\\x0a2024-01-01" in lines[0]
    assert "/api/v1/x\\x0d\\x0a2024-01-01" in lines[1]
    assert "\\u2028" in lines[5]


def test_uvicorns_access_logger_is_made_safe_too(app: FastAPI) -> None:
    """uvicorn's own access line (the uvicorn command line turns it on) carries the raw
    query string; create_app puts the filter on that logger, whatever its handlers."""
    from uvicorn.logging import AccessFormatter

    secret = generate_key("live")
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.9:5000", "GET", f"/x?k=%2570p_live_sk_{secret[11:]}&n=a\nb", "1.1", 200),
        None,
    )
    assert logging.getLogger("uvicorn.access").filter(record)
    line = AccessFormatter("%(message)s", use_colors=False).format(record)
    assert secret[11:] not in line
    assert "\n" not in line
    assert line.endswith(" 200")


def test_escaping_is_idempotent_and_leaves_text_alone() -> None:
    assert escape_control("caf\u00e9 ok/\u65e5\u672c") == "caf\u00e9 ok/\u65e5\u672c"
    once = safe_for_log("a\nb\x00c\x9bd")
    assert once == "a\\x0ab\\x00c\\x9bd"
    assert safe_for_log(once) == once
