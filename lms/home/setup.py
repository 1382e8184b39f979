"""Wiring of the landing page."""

from __future__ import annotations

from flask import Flask

from lms.home.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
