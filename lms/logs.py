"""Log hygiene: request lines must not carry launch tokens or BBB checksums."""

from __future__ import annotations

import logging
import re

_PATTERNS = (
    (re.compile(r"/t/[A-Za-z0-9_.\-]+"), "/t/…"),
    (re.compile(r"(checksum|registration_token|id_token|token)=[^&\s\"]+"), r"\1=…"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = redact(record.getMessage())
            record.args = None
        else:
            record.msg = redact(str(record.msg))
        return True


def install() -> None:
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactFilter) for f in logger.filters):
        logger.addFilter(RedactFilter())
