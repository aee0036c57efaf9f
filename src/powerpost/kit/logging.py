"""Logging set-up with a last-line filter: keys masked, control characters escaped.

Our own code never logs keys; the filter is defence in depth against a library or a
future change that formats a header or URL into a message. Escaping keeps every record
on one line, so nothing a client sends can forge a log line (kit.redact).
"""

from __future__ import annotations

import logging

from powerpost.kit.redact import SAFE_LOG_RECORDS

# Loggers that write request data with their own handlers (uvicorn's access log, when the
# uvicorn command line runs PowerPost with its default log config): a filter on the logger
# itself applies whatever handlers they have.
REQUEST_LOGGERS = ("uvicorn.access", "powerpost.access")


def protect_request_loggers() -> None:
    for name in REQUEST_LOGGERS:
        logging.getLogger(name).addFilter(SAFE_LOG_RECORDS)  # once: addFilter de-duplicates


def configure_logging(level: str = "info") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SAFE_LOG_RECORDS)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    protect_request_loggers()
