"""Mail configuration from the environment (the names are documented in the README):

MEDIENWERK_SMTP_HOST, MEDIENWERK_SMTP_PORT (587), MEDIENWERK_SMTP_USER, MEDIENWERK_SMTP_PASSWORD,
MEDIENWERK_SMTP_FROM, MEDIENWERK_SMTP_STARTTLS (true). In the demo and the tests mails are stored, not sent.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    # the MEDIENWERK_SMTP_* settings are read (and checked) by lms.config
    app.config.setdefault("SMTP_TIMEOUT", 10)
    # store instead of send: the demo shows them at /demo-mail/, the tests read the outbox
    app.config.setdefault("MAIL_STORE_ONLY", bool(app.config.get("DEMO") or app.config.get("TESTING")))
    app.config.setdefault("MAIL_MAX_ATTEMPTS", 5)

    from lms.mail import jobs  # noqa: F401 - registers the periodic sender
