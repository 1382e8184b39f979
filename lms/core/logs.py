"""Log hygiene: request lines must not carry launch tokens, invitation tokens or BBB checksums."""

from __future__ import annotations

import logging
import re

_PATTERNS = (
    (re.compile(r"/t/[A-Za-z0-9_.\-]+"), "/t/…"),
    (re.compile(r"/(live-callbacks|live-feed)/[A-Za-z0-9_.\-]+"), r"/\1/…"),
    (re.compile(r"(checksum|registration_token|id_token|token|invitation)=[^&\s\"]+"), r"\1=…"),
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


def _gunicorn_logger_class() -> type:
    from gunicorn.glogging import Logger

    class GunicornLogger(Logger):
        """gunicorn's logger with access-log lines redacted like the development server's:
        ``gunicorn 'lms:create_app()' --access-logfile - --logger-class lms.core.logs.GunicornLogger``."""

        def atoms(self, resp: object, req: object, environ: dict[str, object], request_time: object) -> dict:
            atoms = super().atoms(resp, req, environ, request_time)
            # every text atom: the request line, path, query, referer and the {…}e environ atoms
            return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}

    return GunicornLogger


def __getattr__(name: str) -> object:
    # lazily, so that importing lms.core.logs does not need gunicorn
    if name == "GunicornLogger":
        return _gunicorn_logger_class()
    raise AttributeError(name)
