"""Wiring of the privacy pages: the public blueprint (no tables, no jobs)."""

from __future__ import annotations

from flask import Flask

from lms.privacy.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
