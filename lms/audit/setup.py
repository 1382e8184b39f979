"""Wiring of the audit log: its table and the coordinators' page."""

from __future__ import annotations

from flask import Flask

from lms.audit import models  # noqa: F401 - the table
from lms.audit.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
