"""Logging set-up with a last-line filter that masks anything shaped like an API key.

Our own code never logs keys; the filter is defence in depth against a library or a
future change that formats a header or URL into a message.
"""

from __future__ import annotations

import logging
import re

_KEYISH = re.compile(r"pp_(live|test)_sk_[0-9A-Za-z]+")


class RedactKeys(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "_sk_" in message:
            record.msg = _KEYISH.sub(r"pp_\1_sk_[redacted]", message)
            record.args = None
        return True


def configure_logging(level: str = "info") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactKeys())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
