"""Mail configuration from the environment (the names are documented in the README):

MEDIENWERK_SMTP_HOST, MEDIENWERK_SMTP_PORT (587), MEDIENWERK_SMTP_USER, MEDIENWERK_SMTP_PASSWORD,
MEDIENWERK_SMTP_FROM, MEDIENWERK_SMTP_STARTTLS (true). In the demo and the tests mails are stored, not sent.
"""

from __future__ import annotations

import os

from flask import Flask


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def init_app(app: Flask) -> None:
    env = os.environ
    app.config.setdefault("SMTP_HOST", env.get("MEDIENWERK_SMTP_HOST") or None)
    try:
        port = int(env.get("MEDIENWERK_SMTP_PORT") or 587)
    except ValueError:
        port = 587
    app.config.setdefault("SMTP_PORT", port)
    app.config.setdefault("SMTP_USER", env.get("MEDIENWERK_SMTP_USER") or None)
    app.config.setdefault("SMTP_PASSWORD", env.get("MEDIENWERK_SMTP_PASSWORD") or None)
    app.config.setdefault("SMTP_FROM", env.get("MEDIENWERK_SMTP_FROM") or "medienwerk <noreply@localhost>")
    app.config.setdefault("SMTP_STARTTLS", _bool(env.get("MEDIENWERK_SMTP_STARTTLS"), True))
    app.config.setdefault("SMTP_TIMEOUT", 10)
    # store instead of send: the demo shows them at /demo-mail/, the tests read the outbox
    app.config.setdefault("MAIL_STORE_ONLY", bool(app.config.get("DEMO") or app.config.get("TESTING")))
    app.config.setdefault("MAIL_MAX_ATTEMPTS", 5)

    from lms.mail import jobs  # noqa: F401 - registers the periodic sender
