"""Wiring of dynamic registration: /lti/register and the invitation table."""

from __future__ import annotations

from flask import Flask

from lms.registrations import models  # noqa: F401 - the tables
from lms.registrations.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
