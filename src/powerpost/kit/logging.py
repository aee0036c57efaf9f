"""Logging set-up with a last-line filter: keys masked, control characters escaped.

Our own code never logs keys; the filter is defence in depth against a library or a
future change that formats a header or URL into a message. Escaping keeps every record
on one line, so nothing a client sends can forge a log line (kit.redact).
"""

from __future__ import annotations

import logging

from powerpost.kit.redact import SAFE_LOG_RECORDS


def configure_logging(level: str = "info") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SAFE_LOG_RECORDS)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
