"""Mail configuration from the environment (the names are documented in the README):

MEDIENWERK_SMTP_HOST, MEDIENWERK_SMTP_PORT (587), MEDIENWERK_SMTP_USER, MEDIENWERK_SMTP_PASSWORD,
MEDIENWERK_SMTP_FROM, MEDIENWERK_SMTP_STARTTLS (true). In the demo and the tests mails are stored, not sent.
"""

from __future__ import annotations

from flask import Flask

from lms.mail import jobs, models  # noqa: F401 - the periodic sender; the tables
from lms.mail.views import bp


def init_app(app: Flask) -> None:
    # the MEDIENWERK_SMTP_* settings are read (and checked) by lms.core.config

    app.register_blueprint(bp)
